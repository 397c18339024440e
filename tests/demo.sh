#!/bin/sh
# tests/demo.sh — `make demo`: serve the packed example library and ask it things.
#
# Starts envpoold on a temporary socket over build/examples (packed from
# examples/*.txt by `make`), runs a few envpool queries, prints the statistics
# and stops the daemon with SIGTERM. Everything is local and bounded in time.
set -eu
BUILD=${ENVPOOL_BUILD:-build}
# TMP (removed at exit) and an exit trap whose cleanup never changes the
# demo's exit status: that is decided by the checks below and nothing else.
. "$(dirname "$0")/integration/lib/common.sh"
sock="$TMP/envpool.sock"
pid=
cleanup_hook() {
    if [ -n "$pid" ]; then kill "$pid"; wait "$pid"; fi 2>/dev/null
}

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
envpool() { "$BUILD/envpool" "$@" --socket "$sock"; }

printf 'envpool demo: the example library (examples/*.txt, packed into %s/examples)\n' "$BUILD"
step "envpoold --socket $sock --search-path $BUILD/examples &"
# A hard bound: whatever happens, the daemon does not outlive a minute
# (timeout passes the demo's SIGTERM on to envpoold, once: --foreground, not to
# the whole group as well, and returns its status).
timeout --foreground 60 "$BUILD/envpoold" --socket "$sock" --search-path "$BUILD/examples" --log-level warn &
pid=$!
# Wait for the condition (the socket exists), bounded at 30 s however loaded the machine.
start=$(date +%s)
while [ ! -S "$sock" ]; do
    kill -0 "$pid" 2>/dev/null || { echo "demo: envpoold exited" >&2; exit 1; }
    [ $(($(date +%s) - start)) -lt 30 ] || { echo "demo: envpoold did not start within 30 s" >&2; exit 1; }
    sleep 0.05
done

step "envpool open --imports Demo.Main          # first open: imports the closure"
envpool open --imports Demo.Main
step "envpool get --imports Demo.Main Nat.add_comm"
envpool get --imports Demo.Main Nat.add_comm
step "envpool get --imports Demo.Main --value List.map"
envpool get --imports Demo.Main --value List.map
step "envpool search --imports Demo.Main --mode fuzzy mulcomm"
envpool search --imports Demo.Main --mode fuzzy --limit 5 mulcomm
step "envpool open --imports Demo.Main          # second open: a pool hit"
envpool open --imports Demo.Main
step "envpool get --imports Demo.Main Nat.add_com   # a typo: not found, with suggestions"
if envpool get --imports Demo.Main Nat.add_com; then
    echo "demo: expected a not-found error" >&2
    exit 1
else
    echo "(exit status $?)"
fi
step "envpool modules --imports Demo.Main"
envpool modules --imports Demo.Main
step "envpool stats"
envpool stats

step "kill -TERM envpoold                        # graceful stop"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
echo "envpoold exited with status $status"
[ "$status" -eq 0 ] || exit 1
[ ! -e "$sock" ] || { echo "demo: the socket was not removed" >&2; exit 1; }
echo
echo "That was envpool. README.md shows how to point envpoold at a real Lean project."
