#!/bin/sh
# The HTTP listener (--http-listen): flags, /healthz 200 then 503 while
# draining, 404/405/HEAD, and hostile HTTP clients (slowloris, oversize heads,
# too many fields, garbage, a flood of connections, clients that never read)
# while a Unix-socket client keeps getting prompt answers. /metrics with
# promtool and a real Prometheus: http_prometheus.sh.
. "$(dirname "$0")/lib/daemon.sh"


# Flags are refused precisely.
for bad in "nohost" "127.0.0.1:" "127.0.0.1:99999" "example.org:80" "[::1:80" "1.2.3:80"; do
    if "$BUILD/envpoold" --socket "$SOCK" --search-path "$TMP" --http-listen "$bad" 2>"$TMP/err"; then
        fail "--http-listen $bad was accepted"
    fi
    grep -q "expected HOST:PORT" "$TMP/err" || fail "--http-listen $bad: $(cat "$TMP/err")"
done
ENVPOOL_HTTP_LISTEN=bogus "$BUILD/envpoold" --socket "$SOCK" --search-path "$TMP" 2>"$TMP/err" &&
    fail "ENVPOOL_HTTP_LISTEN=bogus was accepted"
grep -q "ENVPOOL_HTTP_LISTEN 'bogus'" "$TMP/err" || fail "env error: $(cat "$TMP/err")"

# --metrics-listen is the same flag; the environment variable works too.
ENVPOOL_HTTP_LISTEN=127.0.0.1:0 start_daemon --search-path "$BUILD/examples"
PORT=$(http_port)
stop_daemon
: >"$TMP/daemon.log"

start_daemon --search-path "$BUILD/examples" --metrics-listen 127.0.0.1:0 --http-timeout 1 \
    --output-high 64K --output-low 16K --grace 30
PORT=$(http_port)

# ---- routes and hostile clients, with a Unix-socket client watching latency -------
py - "$SOCK" "$PORT" <<'PY' || fail "hostile http"
import socket, sys, threading, time
from rpc import Conn, stats
path, port = sys.argv[1], int(sys.argv[2])

def http(raw, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(raw)
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    s.close()
    return data

def status(raw):
    d = http(raw)
    assert d.startswith(b"HTTP/1.1 "), d[:80]
    return int(d[9:12]), d

# The watcher: a Unix client asking server.info every 20 ms for the whole test.
worst = [0.0]; answers = [0]; stop = threading.Event(); errs = []
def watch():
    try:
        c = Conn(path, timeout=10)
        while not stop.is_set():
            t = time.monotonic()
            r = c.call("server.info")
            assert "result" in r, r
            worst[0] = max(worst[0], time.monotonic() - t)
            answers[0] += 1
            time.sleep(0.02)
        c.close()
    except Exception as e:  # reported below
        errs.append(repr(e))
w = threading.Thread(target=watch); w.start()

st, d = status(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
assert st == 200 and d.endswith(b"\r\n\r\nok\n"), d
st, d = status(b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
assert st == 200 and d.endswith(b"\r\n\r\n") and b"Content-Length: " in d and b"envpool_" not in d, d
assert status(b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")[0] == 404
st, d = status(b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
assert st == 405 and b"Allow: GET, HEAD\r\n" in d, d
assert status(b"DELETE /healthz HTTP/1.0\r\n\r\n")[0] == 405
assert status(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n")[0] == 400  # a TLS hello
assert status(b"GET / HTTP/1.1\r\n\r\n")[0] == 400                      # no Host
assert status(b"GET /metrics HTTP/3.0\r\nHost: x\r\n\r\n")[0] == 505
assert status(b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody")[0] == 413
assert status(b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n")[0] == 414
assert status(b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"v" * 9000 + b"\r\n\r\n")[0] == 431
assert status(b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(100)) + b"\r\n")[0] == 431

# Slowloris: a byte every 200 ms never completes a head; --http-timeout (1 s) ends it with 408.
s = socket.create_connection(("127.0.0.1", port), timeout=10)
t0 = time.monotonic(); got = b""
try:
    for ch in b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100:
        s.send(bytes([ch]))
        time.sleep(0.2)
        s.setblocking(False)
        try:
            got += s.recv(4096)
        except BlockingIOError:
            pass
        s.setblocking(True)
        if got:
            break
except (BrokenPipeError, ConnectionResetError):
    pass
s.settimeout(5)
try:
    while True:
        c = s.recv(4096)
        if not c:
            break
        got += c
except (ConnectionResetError, socket.timeout):
    pass
s.close()
el = time.monotonic() - t0
assert got.startswith(b"HTTP/1.1 408 "), got[:60]
assert 0.8 < el < 4, el

# A flood: 200 idle connections at once. At most 64 are held; the rest are closed at accept.
socks = []
for i in range(200):
    socks.append(socket.create_connection(("127.0.0.1", port), timeout=10))
time.sleep(0.3)
# The Unix side is unaffected and the held ones time out by themselves.
t = time.monotonic(); c = Conn(path); assert "result" in c.call("server.info"); c.close()
assert time.monotonic() - t < 0.5
for s in socks:
    s.close()
time.sleep(1.5)  # the held connections' --http-timeout passes
assert status(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")[0] == 200

# A client that asks for /metrics and never reads: the daemon is not stuck on it.
lazy = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(20)]
for s in lazy:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
time.sleep(0.3)
assert status(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")[0] == 200
for s in lazy:
    s.close()

stop.set(); w.join(30)
assert not errs, errs
assert answers[0] > 50, answers[0]
assert worst[0] < 0.5, "a Unix-socket answer took %.3f s while HTTP clients misbehaved" % worst[0]
h = stats(path)["http"]
assert h["refused"] >= 100, h
assert h["timeouts"] >= 1 and h["bad_requests"] == 7, h
print("unix answers: %d, worst latency %.1f ms; http: %s" % (answers[0], worst[0] * 1000, h))
PY

# ---- /healthz is 503 while the daemon drains --------------------------------------
# A Unix client that stops reading its replies keeps the drain open (unsent output).
py - "$SOCK" "$PORT" "$DPID" <<'PY' || fail "healthz while draining"
import os, signal, socket, sys, time, urllib.request, urllib.error
path, port, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
u = socket.socket(socket.AF_UNIX); u.connect(path)
u.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
req = b'{"jsonrpc":"2.0","id":1,"method":"pool.stats","params":{"format":"prometheus"}}\n'
u.setblocking(False)
try:
    for i in range(400):
        u.send(req)
except BlockingIOError:
    pass
time.sleep(0.5)
os.kill(pid, signal.SIGTERM)
code = None
for _ in range(50):
    try:
        urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port, timeout=5)
        code = 200
    except urllib.error.HTTPError as e:
        code = e.code
        body = e.read()
    if code == 503:
        break
    time.sleep(0.1)
assert code == 503 and body == b"draining\n", code
u.close()
PY
i=0
while kill -0 "$DPID" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 300 ] || fail "envpoold did not stop after the last client left"
    sleep 0.1
done
wait "$DPID"; st=$?; DPID=
[ "$st" = 0 ] || fail "envpoold exited with status $st"
echo "http: ok"
