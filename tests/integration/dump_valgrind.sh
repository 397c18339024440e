#!/bin/sh
# tests/integration/dump_valgrind.sh — `envpool dump` (human, --json, --text) over every
# sample under valgrind: no invalid reads, no leaks, every mapping released
# (ENVPOOL_CHECK_LEAKS=1 makes the binary itself fail on a live mapping).
set -eu
BUILD=${ENVPOOL_BUILD:-build}
SAMPLES=${ENVPOOL_SAMPLES:-../shared/lean-samples}
if [ -n "${ENVPOOL_SANITIZE:-}" ]; then
    echo "dump_valgrind: skipped: valgrind cannot run a sanitizer build (the sanitizers check it instead)"
    exit 0
fi
if ! command -v valgrind >/dev/null 2>&1; then
    echo "dump_valgrind: valgrind is not installed (make deps)" >&2
    exit 1
fi
# AddressSanitizer and valgrind cannot watch the same process: a sanitizer
# build (make SANITIZE=…) already checks these reads and leaks itself.
if grep -q __asan_init "$BUILD/envpool"; then
    echo "dump_valgrind: sanitizer build, valgrind not applicable (ASan checks instead)"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
find "$SAMPLES" -name '*.olean' | sort | tr '\n' '\0' > "$tmp/list"
for mode in "" "--json" "--text"; do
    # shellcheck disable=SC2086
    xargs -0 env ENVPOOL_CHECK_LEAKS=1 valgrind -q --error-exitcode=99 --leak-check=full \
        --errors-for-leak-kinds=all --show-leak-kinds=all \
        "$BUILD/envpool" dump $mode < "$tmp/list" > "$tmp/out" 2> "$tmp/err" || {
        cat "$tmp/err" >&2
        echo "dump_valgrind: envpool dump $mode failed under valgrind" >&2
        exit 1
    }
    grep -q "leak check: ok" "$tmp/err"
done
echo "dump_valgrind: $(tr -cd '\0' < "$tmp/list" | wc -c) files, human, --json and --text output: clean"
