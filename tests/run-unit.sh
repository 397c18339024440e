#!/bin/sh
# Runs each cmocka unit-test binary given as an argument; VALGRIND=1 runs them
# under valgrind (errors and definite leaks fail). Prints a closing tally line.
set -u
pass=0; fail=0; failed=""
for t in "$@"; do
    if [ "${VALGRIND:-0}" = 1 ]; then
        cmd="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect $t"
    else
        cmd="$t"
    fi
    if $cmd; then pass=$((pass + 1)); else fail=$((fail + 1)); failed="$failed $t"; fi
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ] || { echo "failed:$failed" >&2; exit 1; }
