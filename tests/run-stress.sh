#!/usr/bin/env bash
# tests/run-stress.sh — `make stress`: the whole suite again and again, so that a
# test failing one run in fifty shows up.
#
#   tests/run-stress.sh TEST...        (the arguments of tests/run-tests.sh)
#
# Runs tests/run-tests.sh TEST... and tests/demo.sh STRESS_N times (default 10),
# then every tests/stress/*.sh once (each reads STRESS_N and decides its own
# repetitions: that is the place for a long loop of one kind, such as many demos
# or zero-delay rebuilds). STRESS_LOAD=K keeps K CPU burners running meanwhile,
# for a loaded machine. Prints a line per round, keeps the output of failed runs,
# and ends with "stress: R rounds, F failed" (exit 1 if F > 0).
set -u
n=${STRESS_N:-10}
here=$(cd "$(dirname "$0")" && pwd)
logs=$(mktemp -d "${TMPDIR:-/tmp}/envpool-stress.XXXXXX")
burners=()
finish() {
    st=$?
    set +e
    for p in "${burners[@]}"; do kill "$p"; wait "$p"; done 2>/dev/null
    exit "$st"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for _ in $(seq 1 "${STRESS_LOAD:-0}"); do
    sh -c 'while :; do :; done' &
    burners+=($!)
done
[ "${#burners[@]}" -eq 0 ] || echo "stress: ${#burners[@]} CPU burners running (STRESS_LOAD)"

failed=0 runs=0
failures=()
# one NAME CMD...: runs one command, its output kept in $logs if it fails.
one() {
    local name=$1 t0=$SECONDS
    shift
    runs=$((runs + 1))
    if "$@" >"$logs/current" 2>&1 </dev/null; then
        rm -f "$logs/current"
        echo "ok     $name ($((SECONDS - t0))s)"
    else
        failed=$((failed + 1))
        mv "$logs/current" "$logs/$name.log"
        failures+=("$name")
        echo "FAIL   $name ($((SECONDS - t0))s): $(grep -E '^(FAIL|failed:)' "$logs/$name.log" | head -n 3 | tr '\n' ' ')"
        echo "       output kept in $logs/$name.log"
    fi
}

for r in $(seq 1 "$n"); do
    one "round$r-check" "$here/run-tests.sh" "$@"
    one "round$r-demo" "$here/demo.sh"
done
for s in "$here"/stress/*.sh; do
    [ -e "$s" ] || continue
    one "stress-$(basename "$s" .sh)" env STRESS_N="$n" sh "$s"
done

echo "stress: $n rounds and $(ls "$here"/stress/*.sh 2>/dev/null | wc -l) stress scripts, $runs runs, $failed failed${failures[*]:+: ${failures[*]}}"
[ "$failed" -eq 0 ] || exit 1
rm -rf "$logs"
