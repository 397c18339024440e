#!/bin/sh
# tests/integration/dump_valgrind.sh — `envpool dump` (human, --json, --text) over every
# sample under valgrind: no invalid reads, no leaks, every mapping released
# (ENVPOOL_CHECK_LEAKS=1 makes the binary itself fail on a live mapping).
set -eu
BUILD=${ENVPOOL_BUILD:-build}
. "$(dirname "$0")/lib/common.sh"
if [ -n "${ENVPOOL_SANITIZE:-}" ]; then
    skip "valgrind cannot run a sanitizer build (the sanitizers check it instead)"
fi
if ! command -v valgrind >/dev/null 2>&1; then
    echo "dump_valgrind: valgrind is not installed (make deps)" >&2
    exit 1
fi
# AddressSanitizer and valgrind cannot watch the same process: a sanitizer
# build (make SANITIZE=…) already checks these reads and leaks itself.
if grep -q __asan_init "$BUILD/envpool"; then
    skip "valgrind cannot run a sanitizer build (the sanitizers check it instead)"
fi
need_samples
tmp=$TMP
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
