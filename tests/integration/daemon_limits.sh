#!/bin/sh
# envpoold's limits, each with its counter: oversize frames (line and LSP),
# --max-connections, --idle-timeout, output water marks with a client that
# never reads while others are served, 200 concurrent pipelining clients.
. "$(dirname "$0")/lib/daemon.sh"

start_daemon --max-frame 1024 --max-connections 250 --output-high 64K --output-low 16K --output-hard 100K
py - "$SOCK" <<'PY' || fail "limits"
import sys, json, socket, threading
from rpc import Conn, error_code, stats
path = sys.argv[1]

# Oversize line frame: an error naming the limit, then the connection closes.
c = Conn(path)
c.send_raw(b'{"jsonrpc":"2.0","id":1,"method":"server.info","params":{"x":"' + b"a" * 2000 + b'"}}\n')
m = c.read()
assert error_code(m) == -32600 and "max-frame" in m["error"]["message"], m
assert m["error"]["data"]["max_frame"] == 1024
assert c.expect_eof()
# Exactly at the limit is fine.
c = Conn(path)
pad = 1024 - len(b'{"jsonrpc":"2.0","id":1,"method":"server.info","params":{"p":""}}')
c.send_raw(b'{"jsonrpc":"2.0","id":1,"method":"server.info","params":{"p":"' + b"b" * pad + b'"}}\n')
assert error_code(c.read()) == -32602   # unknown param: the frame itself was accepted
c.close()
# LSP: a Content-Length over the limit is refused before the body arrives.
l = Conn(path, lsp=True)
l.send_raw(b"Content-Length: 999999\r\n\r\n")
assert error_code(l.read()) == -32600
assert l.expect_eof()
# An endless line without newline: refused once past the limit, not buffered forever.
c = Conn(path)
try:
    c.send_raw(b"x" * 5000)
except (BrokenPipeError, ConnectionResetError):
    pass
assert error_code(c.read()) == -32600
assert c.expect_eof()

s = stats(path)
assert s["limits"]["max_frame"] == {"limit": 1024, "hits": 3}, s["limits"]["max_frame"]

# Clients that never read their replies: reading one stops above --output-high
# (and stays stopped: the pause bounds its buffer) while others are served; a
# client whose single frame (a batch of 12 stats requests, ~70 KB of replies)
# crosses --output-hard is closed.
one = b'{"jsonrpc":"2.0","id":1,"method":"pool.stats","params":{"format":"prometheus"}}'
def flood(payload, want):
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(path)
    sock.setblocking(False)
    fast = Conn(path)
    for round in range(300):
        try:
            while True:
                sock.send(payload)
        except BlockingIOError:
            pass
        except (BrokenPipeError, ConnectionResetError):
            pass
        # the other client is answered while this one is stuck
        assert fast.call("server.info")["result"]
        s = stats(path)
        if s["limits"][want]["hits"] >= 1:
            break
    fast.close()
    return sock, s
slow1, s = flood((one + b"\n") * 200, "output_high")
assert s["limits"]["output_high"]["hits"] >= 1 and s["limits"]["output_hard"]["hits"] == 0, s["limits"]
slow2, s = flood((b"[" + b",".join([one] * 12) + b"]\n") * 50, "output_hard")
assert s["limits"]["output_hard"] == {"limit": 102400, "hits": 1}, s["limits"]
slow1.close()
slow2.close()

# 200 concurrent clients, each pipelining 50 requests; every reply arrives, in order.
N, K = 200, 50
errors = []
def client(i):
    try:
        c = Conn(path)
        c.send_raw(b"".join(b'{"jsonrpc":"2.0","id":%d,"method":"server.info"}\n' % (i * 1000 + k) for k in range(K)))
        got = [c.read_reply()["id"] for _ in range(K)]
        if got != [i * 1000 + k for k in range(K)]:
            errors.append((i, got[:5]))
        c.close()
    except Exception as e:
        errors.append((i, repr(e)))
ts = [threading.Thread(target=client, args=(i,)) for i in range(N)]
for t in ts: t.start()
for t in ts: t.join(120)
assert not errors, errors[:5]
s = stats(path)
assert s["methods"]["server.info"]["requests"] >= N * K
assert s["server"]["connections_active"] == 1, s["server"]
PY
stop_daemon 0

# --max-connections: the connection over the limit gets a busy error (-32006) and is closed.
start_daemon --max-connections 2 --idle-timeout 0.3
py - "$SOCK" <<'PY' || fail "max-connections / idle-timeout"
import sys, time
from rpc import Conn, error_code, stats
path = sys.argv[1]
a, b = Conn(path), Conn(path)
assert a.call("server.info")["result"] and b.call("server.info")["result"]
c = Conn(path)
m = c.read()
assert error_code(m) == -32006 and m["error"]["data"]["retry_after_ms"] > 0, m
assert c.expect_eof()
# Idle connections are closed by the server after --idle-timeout.
assert a.expect_eof() and b.expect_eof()
s = stats(path)
assert s["limits"]["max_connections"]["hits"] == 1, s["limits"]
assert s["limits"]["idle_timeout_ms"] == {"limit": 300, "hits": 2}, s["limits"]
PY
stop_daemon 0
echo "daemon_limits: ok"
