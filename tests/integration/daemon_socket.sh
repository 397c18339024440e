#!/bin/sh
# envpoold's socket: created 0600 (0660 with --socket-group), a live daemon on
# the path refused, a stale socket replaced, a non-socket file and an overlong
# path refused, peer credentials checked, the socket removed on SIGTERM.
. "$(dirname "$0")/lib/daemon.sh"

mode() { stat -c %a "$1"; }

start_daemon
[ "$(mode "$SOCK")" = 600 ] || fail "socket mode $(mode "$SOCK"), expected 600"

# A second daemon on the same path refuses and leaves the first one working.
"$BUILD/envpoold" --socket "$SOCK" --search-path "$TMP" 2>"$TMP/second.log"; st=$?
[ $st = 1 ] || fail "second daemon exited $st, expected 1"
grep -q "another daemon is listening on $SOCK" "$TMP/second.log" || fail "second daemon's message"
"$BUILD/envpool" call server.info --socket "$SOCK" >/dev/null 2>&1 || fail "first daemon after the second tried"

# Killed hard, the daemon leaves a stale socket; the next one replaces it.
kill -KILL "$DPID"; wait "$DPID" 2>/dev/null; DPID=
[ -S "$SOCK" ] || fail "expected a stale socket file after SIGKILL"
start_daemon
grep -q "removed stale socket $SOCK" "$TMP/daemon.log" || fail "stale socket not reported"
"$BUILD/envpool" call server.info --socket "$SOCK" >/dev/null 2>&1 || fail "daemon after stale socket"
stop_daemon 0
[ ! -e "$SOCK" ] || fail "socket left behind after SIGTERM"

# A regular file at the path is never removed.
echo data >"$TMP/file"
"$BUILD/envpoold" --search-path "$TMP" --socket "$TMP/file" 2>"$TMP/file.log"; st=$?
[ $st = 1 ] || fail "daemon on a regular file exited $st, expected 1"
grep -q "exists and is not a socket" "$TMP/file.log" || fail "message for a regular file"
[ "$(cat "$TMP/file")" = data ] || fail "the regular file was touched"

# A path longer than sun_path is refused, not truncated.
long=$TMP/$(printf 'x%.0s' $(seq 1 120))
"$BUILD/envpoold" --search-path "$TMP" --socket "$long" 2>"$TMP/long.log"; st=$?
[ $st = 1 ] || fail "daemon on an overlong path exited $st, expected 1"
grep -q "a Unix socket path holds at most 107" "$TMP/long.log" || fail "message for an overlong path"
ls "$TMP" | grep -q '^xxxxxxxx' && fail "a truncated socket was created"

# Bad flags: usage errors.
"$BUILD/envpoold" --socket "$SOCK" --output-low 2M --output-high 1M 2>/dev/null; st=$?
[ $st = 2 ] || fail "inconsistent water marks: status $st, expected 2"
"$BUILD/envpoold" --max-frame banana 2>/dev/null; st=$?
[ $st = 2 ] || fail "--max-frame banana: status $st, expected 2"
"$BUILD/envpoold" --help | grep -q -- '--max-inflight' || fail "--help"
"$BUILD/envpoold" --version | grep -q '^envpoold ' || fail "--version"

# --socket-group: 0660 and the group set.
grp=$(id -gn)
start_daemon --socket-group "$grp"
[ "$(mode "$SOCK")" = 660 ] || fail "socket mode with --socket-group: $(mode "$SOCK"), expected 660"
[ "$(stat -c %G "$SOCK")" = "$grp" ] || fail "socket group $(stat -c %G "$SOCK"), expected $grp"
stop_daemon 0

# Peer credentials: a uid that is not ours (nor root) is refused unless --allow-uid names it.
if [ "$(id -u)" = 0 ]; then
    other=65534
    for allow in no yes; do
        if [ $allow = yes ]; then start_daemon --allow-uid $other; else start_daemon; fi
        chmod 0711 "$TMP"; chmod 0666 "$SOCK" # let the other uid reach the socket: the daemon itself must refuse
        py - "$SOCK" $other $allow <<'PY' || fail "peer credential check (allow=$allow)"
import os, sys, json, socket
path, uid, allow = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "yes"
pid = os.fork()
if pid == 0:
    os.setgid(uid); os.setuid(uid)
    s = socket.socket(socket.AF_UNIX); s.settimeout(30); s.connect(path)
    try:
        s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"server.info"}\n')
        data = s.recv(65536)
    except (ConnectionResetError, BrokenPipeError):
        data = b""
    os._exit(0 if (bool(data) == allow) else 1)
_, st = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(st))
PY
        if [ $allow = no ]; then
            grep -q "connection refused: uid $other" "$TMP/daemon.log" || fail "refusal not logged"
            py -c "import sys; from rpc import stats; s = stats(sys.argv[1]); assert s['limits']['peer_credentials']['hits'] == 1, s['limits']" "$SOCK" || fail "refused_peer counter"
        fi
        stop_daemon 0
    done
else
    echo "daemon_socket: not root, peer-credential refusal not tested"
fi
echo "daemon_socket: ok"
