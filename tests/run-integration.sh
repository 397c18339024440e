#!/bin/sh
# Runs each integration script given as an argument (each has its own hard timeout).
set -u
pass=0; fail=0; failed=""
for t in "$@"; do
    echo "== $t"
    if timeout 600 sh "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed="$failed $t"; fi
done
echo "integration: $pass passed, $fail failed"
[ "$fail" -eq 0 ] || { echo "failed:$failed" >&2; exit 1; }
