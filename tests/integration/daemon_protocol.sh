#!/bin/sh
# envpoold over a real socket: JSON-RPC envelope, errors that keep the
# connection usable, batches, notifications, LSP framing, the CLI client.
. "$(dirname "$0")/lib/daemon.sh"

start_daemon --max-frame 4096
py - "$SOCK" <<'PY' || fail "protocol checks"
import sys, json
from rpc import Conn, error_code, stats
path = sys.argv[1]
c = Conn(path)
info = c.call("server.info")["result"]
assert info["name"] == "envpoold" and info["protocol_version"] == "1", info
for m in ("server.info", "pool.stats", "$/cancelRequest"):
    assert m in info["methods"], info

# Malformed JSON, bad envelopes and bad params are answered and the connection stays usable.
for raw, code in [(b"{oops\n", -32700), (b'{"a":1,"a":2}\n', -32700), (b"[" * 100 + b"\n", -32700),
                  (b'"just a string"\n', -32600), (b"[]\n", -32600),
                  (b'{"jsonrpc":"2.0","id":1}\n', -32600),
                  (b'{"jsonrpc":"2.0","id":2,"method":"no.such"}\n', -32601),
                  (b'{"jsonrpc":"2.0","id":3,"method":"pool.stats","params":{"format":"xml"}}\n', -32602),
                  (b'{"jsonrpc":"2.0","id":4,"method":"pool.stats","params":{"fromat":"json"}}\n', -32602),
                  (b'{"jsonrpc":"2.0","id":5,"method":"pool.stats","params":[1]}\n', -32602),
                  (b'\xff\xfe{}\n', -32700)]:
    c.send_raw(raw)
    m = c.read_reply()
    assert error_code(m) == code, (raw, m)
    assert c.call("server.info")["result"]["name"] == "envpoold"
m = (c.send_raw(b'{"jsonrpc":"2.0","id":6,"method":"pool.stats","params":{"format":"xml"}}\n'), c.read())[1]
assert "param 'format'" in m["error"]["message"] and "prometheus" in m["error"]["message"], m

# Notifications get no reply: the next reply is for the request after them.
c.send_raw(b'{"jsonrpc":"2.0","method":"server.info"}\n{"jsonrpc":"2.0","method":"no.such"}\n')
assert c.call("server.info")["id"] is not None

# A batch is answered by one array, notifications left out; an all-notification batch gets nothing.
c.send([{"jsonrpc": "2.0", "id": "x", "method": "server.info"},
        {"jsonrpc": "2.0", "method": "server.info"},
        5,
        {"jsonrpc": "2.0", "id": "y", "method": "no.such"}])
b = c.read_reply()
assert isinstance(b, list) and len(b) == 3, b
assert b[0]["id"] == "x" and "result" in b[0]
assert error_code(b[1]) == -32600 and error_code(b[2]) == -32601
c.send([{"jsonrpc": "2.0", "method": "server.info"}])
assert c.call("server.info")["result"]

# Requests split across writes at every byte, and many in one write.
req = b'{"jsonrpc":"2.0","id":77,"method":"server.info"}\n'
for ch in req:
    c.send_raw(bytes([ch]))
assert c.read_reply()["id"] == 77
c.send_raw(b"".join(b'{"jsonrpc":"2.0","id":%d,"method":"server.info"}\r\n' % i for i in range(300)))
ids = [c.read_reply()["id"] for _ in range(300)]
assert ids == list(range(300)), ids[:10]

# Cancel of an id that is not pending: silently nothing (LSP semantics).
c.send({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 12345}})
assert c.call("server.info")["result"]
c.close()

# LSP framing, detected from the first bytes, also split.
l = Conn(path, lsp=True)
body = b'{"jsonrpc":"2.0","id":1,"method":"server.info"}'
msg = b"Content-Length: %d\r\n\r\n" % len(body) + body
for i in range(0, len(msg), 7):
    l.send_raw(msg[i:i + 7])
assert l.read()["result"]["name"] == "envpoold"
l.send_raw(b"Content-Length: 5\r\n\r\n{bad}")
assert error_code(l.read()) == -32700
assert l.call("server.info")["result"]
# A malformed header closes the connection after an error.
l.send_raw(b"Content-Length: nope\r\n\r\n")
assert error_code(l.read()) == -32700
assert l.expect_eof()

# Server counters saw all this.
s = stats(path)
assert s["server"]["parse_errors"] >= 5, s["server"]
assert s["methods"]["server.info"]["requests"] >= 300
assert s["methods"]["(unknown)"]["requests"] >= 3
PY

# The CLI against the same daemon.
E=$BUILD/envpool
"$E" call server.info --socket "$SOCK" >"$TMP/out" || fail "envpool call server.info"
grep -q '"protocol_version": "1"' "$TMP/out" || fail "envpool call output"
"$E" call no.such --socket "$SOCK" 2>"$TMP/err"; st=$?
[ $st = 1 ] || fail "envpool call of an unknown method: status $st, expected 1"
grep -q "unknown method 'no.such' (error -32601)" "$TMP/err" || fail "envpool call error message"
"$E" stats --socket "$SOCK" >"$TMP/out" || fail "envpool stats"
grep -q '^server: ' "$TMP/out" || fail "envpool stats output"
# The POOL rows come from the same counter list as pool.stats' "pool" object: one row per key.
"$E" call pool.stats --socket "$SOCK" >"$TMP/json" || fail "envpool call pool.stats"
py - "$TMP/json" "$TMP/out" <<'PY' || fail "envpool stats: POOL rows differ from pool.stats keys"
import json, sys
pool = json.load(open(sys.argv[1]))["pool"]
lines = open(sys.argv[2]).read().split("\n")
section = lines[lines.index(next(l for l in lines if l.startswith("POOL "))) + 1:]
section = section[:next(i for i, l in enumerate(section) if l.startswith("METHOD "))]
rows = {l.split()[0]: l.split()[1] for l in section}
assert list(rows) == list(pool), (list(rows), list(pool))
for k, v in pool.items():
    assert rows[k] == str(v["count"] if k == "import_time" else v), (k, rows[k], v)
PY
"$E" stats --prometheus --socket "$SOCK" >"$TMP/out" || fail "envpool stats --prometheus"
grep -q '^# TYPE envpool_request_duration_seconds histogram$' "$TMP/out" || fail "prometheus output"
"$E" stats --socket "$TMP/absent.sock" 2>/dev/null; st=$?
[ $st = 69 ] || fail "envpool stats without a daemon: status $st, expected 69"
"$E" stats --bogus 2>/dev/null; st=$?
[ $st = 2 ] || fail "envpool stats --bogus: status $st, expected 2"

# batch: pipelined, replies in input order with the original ids, notifications silent.
{
    i=0
    while [ $i -lt 500 ]; do
        echo "{\"jsonrpc\":\"2.0\",\"id\":\"r$i\",\"method\":\"server.info\"}"
        echo '{"jsonrpc":"2.0","method":"server.info"}'
        i=$((i + 1))
    done
    echo 'not json'
    echo '[{"jsonrpc":"2.0","id":1,"method":"server.info"},{"jsonrpc":"2.0","id":1,"method":"no.such"}]'
    echo '{"jsonrpc":"2.0","id":"last","method":"server.info"}'
} >"$TMP/in"
"$E" batch --socket "$SOCK" <"$TMP/in" >"$TMP/out"; st=$?
[ $st = 1 ] || fail "envpool batch with errors: status $st, expected 1"
[ "$(wc -l <"$TMP/out")" = 503 ] || fail "envpool batch: $(wc -l <"$TMP/out") reply lines, expected 503"
py - "$TMP/out" <<'PY' || fail "batch output order"
import sys, json
lines = [json.loads(l) for l in open(sys.argv[1])]
assert [l["id"] for l in lines[:500]] == ["r%d" % i for i in range(500)]
assert lines[500]["error"]["code"] == -32700 and lines[500]["id"] is None
assert [x["id"] for x in lines[501]] == [1, 1] and lines[501][1]["error"]["code"] == -32601
assert lines[502]["id"] == "last"
PY

stop_daemon 0
[ ! -e "$SOCK" ] || fail "socket left behind after SIGTERM"
echo "daemon_protocol: ok"
