#!/bin/sh
# envpoold's signals: SIGTERM while a client is pipelining (every request read
# is answered, in order, then the connection closes; exit 0, socket removed,
# every libuv handle closed), SIGINT, SIGHUP (keeps serving), --grace.
. "$(dirname "$0")/lib/daemon.sh"

start_daemon
py - "$SOCK" "$DPID" <<'PY' || fail "SIGTERM with requests in flight"
import os, sys, signal, threading, json
from rpc import Conn
path, pid = sys.argv[1], int(sys.argv[2])
os.kill(pid, signal.SIGHUP)
idle = Conn(path)
assert idle.call("server.info")["result"]
c = Conn(path)
N = 20000
stop = threading.Event()
def writer():
    data = b"".join(b'{"jsonrpc":"2.0","id":%d,"method":"server.info"}\n' % i for i in range(N))
    try:
        c.send_raw(data)
    except (BrokenPipeError, ConnectionResetError):
        pass
t = threading.Thread(target=writer)
t.start()
got = []
while True:
    try:
        m = c.read_reply()
    except (EOFError, ConnectionResetError):
        break
    got.append(m["id"])
    if len(got) == 100:
        os.kill(pid, signal.SIGTERM)
t.join(60)
# Every reply is whole and in order; the daemon stopped before the end of the stream.
assert got == list(range(len(got))), got[:10]
assert 100 <= len(got) < N, len(got)
assert idle.expect_eof()
PY
i=0
while kill -0 "$DPID" 2>/dev/null; do i=$((i + 1)); [ $i -lt 600 ] || fail "no exit after SIGTERM"; sleep 0.1; done
wait "$DPID"; st=$?; DPID=
[ $st = 0 ] || fail "exit status $st after SIGTERM, expected 0"
[ ! -e "$SOCK" ] || fail "socket left behind"
grep -q "SIGHUP" "$TMP/daemon.log" || fail "SIGHUP not logged"
grep -q "SIGTERM: draining" "$TMP/daemon.log" || fail "drain not logged"
grep -q "stopped" "$TMP/daemon.log" || fail "clean stop not logged"
grep -q "uv_loop_close" "$TMP/daemon.log" && fail "a libuv handle was left open"

# SIGINT drains the same way.
start_daemon
kill -INT "$DPID"
i=0
while kill -0 "$DPID" 2>/dev/null; do i=$((i + 1)); [ $i -lt 600 ] || fail "no exit after SIGINT"; sleep 0.1; done
wait "$DPID"; st=$?; DPID=
[ $st = 0 ] || fail "exit status $st after SIGINT, expected 0"

# A client that never reads keeps a drain from finishing; --grace bounds it.
start_daemon --grace 0.5 --output-high 16K --output-low 4K
py - "$SOCK" "$DPID" <<'PY' || fail "grace period"
import os, sys, signal, socket, time
path, pid = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_UNIX)
s.connect(path)
s.setblocking(False)
req = b'{"jsonrpc":"2.0","id":1,"method":"pool.stats","params":{"format":"prometheus"}}\n' * 200
for _ in range(50):
    try:
        s.send(req)
    except BlockingIOError:
        time.sleep(0.02)
os.kill(pid, signal.SIGTERM)
for _ in range(600):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        break
    time.sleep(0.1)
PY
i=0
while kill -0 "$DPID" 2>/dev/null; do i=$((i + 1)); [ $i -lt 600 ] || fail "no exit after the grace period"; sleep 0.1; done
wait "$DPID"; st=$?; DPID=
[ $st = 0 ] || fail "exit status $st after the grace period, expected 0"
grep -q "grace period over: closing 1 connection" "$TMP/daemon.log" || fail "grace expiry not logged"
echo "daemon_signals: ok"
