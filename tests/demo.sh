#!/bin/sh
# tests/demo.sh — `make demo`: serve the packed example library and ask it things.
#
# Starts envpoold on a temporary socket over build/examples (packed from
# examples/*.txt by `make`), runs a few envpool queries, prints the statistics
# and stops the daemon with SIGTERM. Everything is local and bounded in time.
set -eu
BUILD=${ENVPOOL_BUILD:-build}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/envpool-demo.XXXXXX")
sock="$tmp/envpool.sock"
pid=
watchdog=
cleanup() {
    if [ -n "$watchdog" ]; then pkill -P "$watchdog" 2>/dev/null; kill "$watchdog" 2>/dev/null; fi
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
envpool() { "$BUILD/envpool" "$@" --socket "$sock"; }

printf 'envpool demo: the example library (examples/*.txt, packed into %s/examples)\n' "$BUILD"
step "envpoold --socket $sock --search-path $BUILD/examples &"
"$BUILD/envpoold" --socket "$sock" --search-path "$BUILD/examples" --log-level warn &
pid=$!
# A hard bound: whatever happens, the daemon does not outlive a minute.
(sleep 60; kill "$pid") 2>/dev/null &
watchdog=$!
i=0
while [ ! -S "$sock" ]; do
    i=$((i + 1))
    [ "$i" -lt 200 ] || { echo "demo: envpoold did not start" >&2; exit 1; }
    kill -0 "$pid" 2>/dev/null || { echo "demo: envpoold exited" >&2; exit 1; }
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
