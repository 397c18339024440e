#!/bin/sh
# tests/demo.sh — `make demo`: start envpoold on a temporary socket over the
# packed example library (build/examples), run a few queries a new user would
# try, show the statistics, and stop the daemon cleanly. Bounded in time.
set -u
BUILD=${ENVPOOL_BUILD:-$(pwd)/build}
E=$BUILD/envpool
TMP=$(mktemp -d /tmp/envpool-demo.XXXXXX)
SOCK=$TMP/envpool.sock
PID=
cleanup() {
    [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

if [ -t 1 ]; then B='\033[1m'; N='\033[0m'; else B=; N=; fi
step() { printf "\n${B}\$ %s${N}\n" "$*"; }
# The client finds the daemon through $ENVPOOL_SOCKET (no --socket on every line).
export ENVPOOL_SOCKET="$SOCK"
ep() { step "envpool $*"; timeout 30 "$E" "$@"; }

[ -f "$BUILD/examples/Demo/Main.olean" ] || { echo "demo: $BUILD/examples is missing (run make)" >&2; exit 1; }
step "envpoold --socket $SOCK --search-path build/examples &"
"$BUILD/envpoold" --socket "$SOCK" --search-path "$BUILD/examples" 2>"$TMP/log" &
PID=$!
i=0
until grep -q "listening on" "$TMP/log" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 100 ] || ! kill -0 "$PID" 2>/dev/null; then cat "$TMP/log" >&2; echo "demo: envpoold did not start" >&2; exit 1; fi
    sleep 0.1
done
sed 's/^/  /' "$TMP/log"

ep open --imports Demo.Main
ep get --imports Demo.Main Nat.add_comm
ep get --imports Demo.Main --value Nat.add
ep search --imports Demo.Main --mode prefix --limit 8 List.
ep open --imports Demo.Main
ep get --imports Demo.Main Nat.ad
echo "(exit status $?: not found, with suggestions)"
ep modules --imports Demo.Main
ep stats

step "kill -TERM $PID   # drain, remove the socket, exit 0"
kill -TERM "$PID"
wait "$PID"
st=$?
PID=
sed -n '/SIGTERM/,$p' "$TMP/log" | sed 's/^/  /'
[ $st = 0 ] || { echo "demo: envpoold exited with status $st" >&2; exit 1; }
[ ! -e "$SOCK" ] || { echo "demo: socket left behind" >&2; exit 1; }
printf '\ndemo: ok (envpoold exited 0, socket removed)\n'
