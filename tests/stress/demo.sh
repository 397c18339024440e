#!/bin/sh
# tests/stress/demo.sh — `make demo`'s script 5 x STRESS_N times in a row (50 by
# default): the README's first command must never fail on a healthy machine.
# A stress script (tests/stress/*.sh, run by `make stress` after its rounds)
# exits 0 when every repetition passed, and says how many failed otherwise.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
n=$((5 * ${STRESS_N:-10}))
log=$(mktemp "${TMPDIR:-/tmp}/envpool-stress-demo.XXXXXX")
failed=0 i=0
while [ "$i" -lt "$n" ]; do
    i=$((i + 1))
    if ! "$here/demo.sh" >"$log" 2>&1 </dev/null; then
        failed=$((failed + 1))
        echo "demo run $i failed:"
        tail -n 20 "$log"
    fi
done
rm -f "$log"
echo "stress/demo: $n runs, $failed failed"
[ "$failed" -eq 0 ]
