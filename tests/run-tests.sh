#!/usr/bin/env bash
# tests/run-tests.sh — the runner of `make check` and `make valgrind`, in the
# spirit of libuv's: every test in its own process under a time limit, skip
# as a result of its own, one summary line.
#
#   tests/run-tests.sh [--only NAME] TEST...
#
# A TEST ending in .sh is an integration script (run with sh); anything else
# is a cmocka binary made with TEST_MAIN (tests/support/testmain.h), whose
# tests are listed with --list and run one per process with --run NAME.
# --only NAME (make check T=NAME) keeps the tests whose binary (test_pool,
# pool/test_pool), test (test_acquire), binary:test or script (daemon_pool,
# daemon_pool.sh) is NAME.
#
# Unit tests run with ENVPOOL_CHECK_LEAKS=1 (a leak fails them); scripts set
# it for what they start themselves.
# A test passes with status 0 and is skipped with status 77; its last line
# "SKIP: why" says why, and skips are counted by reason at the end. Anything
# else fails, and the test's output is shown. Passing tests are quiet unless
# V=1. A timeout fails the test:
#   ENVPOOL_TEST_TIMEOUT    seconds per unit test  (default 120, x10 under valgrind)
#   ENVPOOL_SCRIPT_TIMEOUT  seconds per script     (default 600)
# VALGRIND=1 runs each unit test under valgrind (errors and definite leaks
# fail); scripts see VALGRIND and wrap the daemon themselves.
set -u

only=
if [ "${1:-}" = --only ]; then only=$2; shift 2; fi
verbose=${V:-0}
unit_limit=${ENVPOOL_TEST_TIMEOUT:-120}
script_limit=${ENVPOOL_SCRIPT_TIMEOUT:-600}
wrap=()
if [ "${VALGRIND:-0}" = 1 ]; then
    wrap=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect)
    unit_limit=$((unit_limit * 10))
fi

log=$(mktemp "${TMPDIR:-/tmp}/envpool-test.XXXXXX")
trap 'rm -f "$log"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

passed=0 failed=0 skipped=0 matched=0
failures=()
declare -A skip_count=()
skip_order=()

# wanted BINARY_OR_SCRIPT_PATH TESTNAME: is this test selected by --only?
wanted() {
    [ -z "$only" ] && return 0
    local path=$1 test=$2 base short
    base=$(basename "$path")
    short=${path#*/tests/unit/}; short=${short#tests/unit/}; short=${short#tests/integration/}
    case "$only" in
        "$base" | "${base%.sh}" | "$short" | "${short%.sh}" | "$test" | "$base:$test" | "$short:$test") return 0 ;;
    esac
    return 1
}

# record NAME STATUS SECONDS LOUD: counts one finished test, shows what it printed if it
# failed; LOUD=1 (scripts) prints a line for a pass or a skip too.
record() {
    local name=$1 st=$2 secs=$3 loud=$4 why
    [ "$verbose" = 1 ] && loud=1
    if [ "$st" -eq 0 ]; then
        passed=$((passed + 1))
        [ "$verbose" = 1 ] && sed 's/^/    | /' "$log"
        [ "$loud" = 1 ] && echo "ok     $name (${secs}s)"
    elif [ "$st" -eq 77 ]; then
        skipped=$((skipped + 1))
        why=$(grep '^SKIP: ' "$log" | tail -n 1 | sed 's/^SKIP: //')
        [ -n "$why" ] || why="no reason given"
        [ -n "${skip_count[$why]+x}" ] || skip_order+=("$why")
        skip_count[$why]=$(( ${skip_count[$why]:-0} + 1 ))
        [ "$loud" = 1 ] && echo "skip   $name: $why"
    else
        failed=$((failed + 1))
        case $st in
            124) why="timed out" ;;
            137) why="killed after the time limit" ;;
            3) if grep -q '^\[  FAILED  \]' "$log"; then why="failed (and left allocations behind)"
               else why="leaked (ENVPOOL_CHECK_LEAKS)"; fi ;;
            99) why="valgrind found errors" ;;
            *) if [ "$st" -gt 128 ]; then why="killed by signal $((st - 128))"; else why="exit status $st"; fi ;;
        esac
        failures+=("$name: $why")
        echo "FAIL   $name: $why (${secs}s); its output:"
        tail -n 200 "$log" | sed 's/^/    | /'
    fi
}

# run_one LIMIT NAME LOUD CMD...: runs one test in its own process with a time limit.
run_one() {
    local limit=$1 name=$2 loud=$3 t0 st
    shift 3
    t0=$SECONDS
    timeout -k 10 "$limit" "$@" >"$log" 2>&1 </dev/null
    st=$?
    record "$name" "$st" $((SECONDS - t0)) "$loud"
}

for t in "$@"; do
    case "$t" in
    *.sh)
        wanted "$t" "" || continue
        matched=$((matched + 1))
        name=${t#tests/integration/}
        run_one "$script_limit" "$name" 1 sh "$t"
        ;;
    *)
        short=${t#*/tests/unit/}
        if ! names=$("$t" --list 2>"$log"); then
            failed=$((failed + 1)); failures+=("$short: --list failed")
            echo "FAIL   $short: --list failed:"; sed 's/^/    | /' "$log"
            continue
        fi
        b_pass=$passed b_fail=$failed b_skip=$skipped b_t0=$SECONDS
        for n in $names; do
            wanted "$t" "$n" || continue
            matched=$((matched + 1))
            run_one "$unit_limit" "$short:$n" 0 env ENVPOOL_CHECK_LEAKS=1 "${wrap[@]}" "$t" --run "$n"
        done
        if [ "$verbose" != 1 ] && [ $((passed + failed + skipped)) -gt $((b_pass + b_fail + b_skip)) ]; then
            printf '%-6s %-28s %3d passed' "$([ $failed -eq $b_fail ] && echo ok || echo FAIL)" \
                "$short" $((passed - b_pass))
            [ $skipped -eq $b_skip ] || printf ', %d skipped' $((skipped - b_skip))
            [ $failed -eq $b_fail ] || printf ', %d failed' $((failed - b_fail))
            printf ' (%ds)\n' $((SECONDS - b_t0))
        fi
        ;;
    esac
done

if [ -n "$only" ] && [ "$matched" -eq 0 ]; then
    echo "no test matches T=$only (unit binary, test name, binary:test or script name)" >&2
    exit 2
fi
for why in "${skip_order[@]}"; do
    echo "${skip_count[$why]} skipped: $why"
done
echo "$passed passed, $failed failed, $skipped skipped"
if [ "$failed" -gt 0 ]; then
    printf 'failed: %s\n' "${failures[@]}" >&2
    exit 1
fi
exit 0
