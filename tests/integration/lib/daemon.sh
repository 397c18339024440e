# tests/integration/lib/daemon.sh — sourced by the daemon integration tests.
#
# Starts the real build/envpoold on a socket in a fresh temporary directory,
# waits for it, and stops it; every wait is bounded. VALGRIND=1 runs the daemon
# under valgrind (errors and definite leaks make it exit 99), and
# ENVPOOL_CHECK_LEAKS=1 makes a leak visible in its exit status (3).
set -u
BUILD=${ENVPOOL_BUILD:-$(pwd)/build}
LIB=$(cd "$(dirname "$0")/lib" && pwd)
. "$LIB/common.sh"
SOCK=$TMP/envpool.sock
DPID=
export ENVPOOL_CHECK_LEAKS=1
export PYTHONPATH="$LIB${PYTHONPATH:+:$PYTHONPATH}"

# A daemon still running at exit (after a failed check) is killed and reaped;
# then the script's own test_cleanup runs, if it defines one (more helpers,
# directories outside $TMP). Neither can change the script's exit status.
cleanup_hook() {
    if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then kill -KILL "$DPID"; wait "$DPID"; fi 2>/dev/null
    if command -v test_cleanup >/dev/null 2>&1; then test_cleanup; fi
}

fail() {
    echo "FAIL: $*" >&2
    if [ -f "$TMP/daemon.log" ]; then echo "--- daemon log:" >&2; tail -n 40 "$TMP/daemon.log" >&2; fi
    exit 1
}

listening_count() {
    n=$(grep -c "listening on" "$TMP/daemon.log" 2>/dev/null || true)
    echo "${n:-0}"
}

# start_daemon [FLAGS...]: starts envpoold on $SOCK (log in $TMP/daemon.log), waits until it listens.
start_daemon() {
    before=$(listening_count)
    if [ "${VALGRIND:-0}" = 1 ]; then
        valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
            "$BUILD/envpoold" --socket "$SOCK" --search-path "$TMP" "$@" 2>>"$TMP/daemon.log" &
    else
        "$BUILD/envpoold" --socket "$SOCK" --search-path "$TMP" "$@" 2>>"$TMP/daemon.log" &
    fi
    DPID=$!
    i=0
    while [ "$(listening_count)" -le "$before" ]; do
        kill -0 "$DPID" 2>/dev/null || fail "envpoold exited during startup"
        i=$((i + 1))
        [ $i -lt 600 ] || fail "envpoold did not start within 60 s"
        sleep 0.1
    done
}

# stop_daemon [EXPECTED_STATUS]: SIGTERM, wait (bounded), check the exit status (default 0).
stop_daemon() {
    want=${1:-0}
    kill -TERM "$DPID" 2>/dev/null || fail "envpoold is not running"
    i=0
    while kill -0 "$DPID" 2>/dev/null; do
        i=$((i + 1))
        [ $i -lt 600 ] || fail "envpoold did not stop within 60 s of SIGTERM"
        sleep 0.1
    done
    wait "$DPID"
    st=$?
    DPID=
    [ "$st" = "$want" ] || fail "envpoold exited with status $st, expected $want"
}

# py SCRIPT...: runs python3 with the rpc helper importable, bounded.
py() {
    timeout 120 python3 "$@"
}
