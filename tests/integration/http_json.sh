#!/bin/sh
# Loogle's GET /json on the HTTP listener, over a real socket with curl and
# Python's http.client, checked against the shapes of Loogle's server.py and
# Loogle.lean (toJson): {} without a query; {header, heartbeats, count, hits:
# [{name, type, module, doc}]} for a result; {error, heartbeats,
# suggestions?} for a query Loogle refuses (HTTP 200); the environment from
# ?imports= or --default-imports; strict percent-decoding (400 with a JSON
# error); OPTIONS preflight; HEAD; the Unix socket still answers meanwhile;
# the calls counted under decl.find; flags refused precisely.
. "$(dirname "$0")/lib/daemon.sh"

ls "$BUILD/examples/Demo/"*.olean >/dev/null 2>&1 || fail "build/examples is missing (run make)"

# --default-imports is checked at startup, flag and environment variable.
for bad in "A,,B" ",A" "A," "A B"; do
    if "$BUILD/envpoold" --socket "$SOCK" --search-path "$TMP" --default-imports "$bad" 2>"$TMP/err"; then
        fail "--default-imports '$bad' was accepted"
    fi
    grep -q "expected module names separated by commas" "$TMP/err" || fail "--default-imports $bad: $(cat "$TMP/err")"
done
ENVPOOL_DEFAULT_IMPORTS="A,,B" "$BUILD/envpoold" --socket "$SOCK" --search-path "$TMP" 2>"$TMP/err" &&
    fail "ENVPOOL_DEFAULT_IMPORTS=A,,B was accepted"
grep -q "ENVPOOL_DEFAULT_IMPORTS 'A,,B'" "$TMP/err" || fail "env error: $(cat "$TMP/err")"
"$BUILD/envpoold" --help | grep -q -- "--default-imports A,B" || fail "--help lacks --default-imports"

# Without a default environment a query needs ?imports=.
start_daemon --search-path "$BUILD/examples" --http-listen 127.0.0.1:0
PORT=$(http_port)
code=$(curl -s -o "$TMP/noenv.json" -w '%{http_code}' "http://127.0.0.1:$PORT/json?q=Nat")
[ "$code" = 400 ] && grep -q '"error": *"no environment' "$TMP/noenv.json" || fail "no env: $code $(cat "$TMP/noenv.json")"
code=$(curl -s -o "$TMP/imp.json" -w '%{http_code}' "http://127.0.0.1:$PORT/json?q=Nat&imports=Demo.Nat")
[ "$code" = 200 ] && grep -q '"count": *[1-9]' "$TMP/imp.json" || fail "imports=: $code $(cat "$TMP/imp.json")"
stop_daemon
: >"$TMP/daemon.log"

ENVPOOL_DEFAULT_IMPORTS=Demo.Main start_daemon --search-path "$BUILD/examples" --http-listen 127.0.0.1:0
PORT=$(http_port)
# curl's own encoding of a query, as an editor would send it
curl -s -G --data-urlencode 'q=Nat.add ?a Nat.zero = ?a' "http://127.0.0.1:$PORT/json" > "$TMP/curl.json" ||
    fail "curl /json"
grep -q '"name": *"Nat.add_zero"' "$TMP/curl.json" || fail "curl /json: $(cat "$TMP/curl.json")"
py - "$PORT" "$SOCK" <<'PY' || fail "/json shapes"
import http.client, json, sys, urllib.parse
from rpc import Conn, stats
port, sock = int(sys.argv[1]), sys.argv[2]

def get(target, method="GET", headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request(method, target, headers=headers or {"User-Agent": "LeanSearchClient", "X-Loogle-Client": "lean4/test"})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), body

def q(query, **extra):
    params = {"q": query}
    params.update(extra)
    st, h, body = get("/json?" + urllib.parse.urlencode(params))
    assert h["content-type"] == "application/json", h
    assert h["access-control-allow-origin"] == "*", h
    return st, json.loads(body)

# No query, an empty one, one of blanks: Loogle's {}.
for target in ["/json", "/json?", "/json?q=", "/json?q=+%20", "/json?lucky=1", "/json?q=%23find+"]:
    st, h, body = get(target)
    assert st == 200 and json.loads(body) == {}, (target, st, body)

# A result: exactly Loogle's keys; every hit {name, type, module, doc}.
st, r = q("Nat.add ?a Nat.zero = ?a")
assert st == 200 and set(r) == {"header", "heartbeats", "count", "hits"}, r
assert r["count"] == 1 and r["heartbeats"] == 0, r
assert r["header"].startswith("Found 2 declarations mentioning ") and r["header"].endswith("1 matches your pattern(s).\n"), r["header"]
assert r["hits"] == [{"name": "Nat.add_zero", "type": "∀ (n : Nat), Eq.{1} Nat (Nat.add n Nat.zero) n",
                      "module": "Demo.Nat", "doc": None}], r["hits"]
# Loogle's normalisation: "#find " dropped, blanks and newlines are spaces, trimmed.
st, r2 = q("  #find  Nat.add ?a\nNat.zero\t= ?a  ")
assert st == 200 and r2["hits"] == r["hits"], r2
# The same hits as decl.find over the socket, in the same order.
c = Conn(sock)
whole = c.call("decl.find", {"imports": ["Demo.Main"], "query": "Nat", "limit": 1000})["result"]
st, r = q("Nat")
assert r["count"] == whole["count"] and [h["name"] for h in r["hits"]] == [i["name"] for i in whole["items"]][:200]
for h in r["hits"]:
    assert set(h) == {"name", "type", "module", "doc"} and isinstance(h["type"], str), h
# ?imports= overrides the default environment.
st, r = q("Nat", imports="Demo.Nat")
assert st == 200 and 0 < r["count"] < whole["count"] and all(h["module"] == "Demo.Nat" for h in r["hits"]), r
st, r = q("Nat", imports=" Demo.Nat , Demo.List ")
assert st == 200 and r["count"] >= 1, r

# Errors Loogle reports in the body (HTTP 200): {error, heartbeats, suggestions?}.
st, r = q("Nat, add_comm")
assert st == 200 and set(r) == {"error", "heartbeats", "suggestions"}, r
assert "unknown identifier 'add_comm'" in r["error"] and "column 6" in r["error"], r
assert r["suggestions"] == ["Nat, Nat.add_comm", 'Nat, "add_comm"'], r
st, r = q("Nat.add add_comm _")           # not a bare filter: no quoted suggestion
assert st == 200 and r["suggestions"] == ["Nat.add Nat.add_comm _"], r
st, r = q("(_ +")
assert st == 200 and set(r) == {"error", "heartbeats"} and "column 5" in r["error"], r
st, r = q("Nat", imports="No.Such")
assert st == 200 and "No.Such" in r["error"], r

# Strict decoding: 400 with a JSON error naming the parameter.
for target, what in [("/json?q=%zz", "percent"), ("/json?q=%4", "percent"), ("/json?q=Nat%00", "percent"),
                     ("/json?q=%ff%fe", "UTF-8"), ("/json?q=a&q=b", "given 2 times"),
                     ("/json?q=Nat&imports=%zz", "'imports'"), ("/json?q=Nat&imports=A&imports=B", "given 2 times")]:
    st, h, body = get(target)
    assert st == 400 and h["content-type"] == "application/json", (target, st, body)
    e = json.loads(body)
    assert set(e) == {"error"} and what in e["error"], (target, e)
st, h, body = get("/json?imports=,,&q=Nat")
assert st == 400 and "no environment" in json.loads(body)["error"], body

# CORS preflight, HEAD, other methods.
st, h, body = get("/json?q=Nat", "OPTIONS")
assert st == 200 and h["access-control-allow-origin"] == "*" and "X-Loogle-Client" in h["access-control-allow-headers"], h
st, h, body = get("/json?q=Nat", "HEAD")
assert st == 200 and body == b"" and int(h["content-length"]) > 0, h
st, h, body = get("/json?q=Nat", "POST")
assert st == 405 and "OPTIONS" in h["allow"], h

# Concurrent requests, answered each with its own result.
import threading
out = {}
def worker(i, query):
    out[i] = q(query)
qs = ["Nat", "\"add\"", "List.map", "Nat.add ?a Nat.zero = ?a", "Bool"] * 4
ts = [threading.Thread(target=worker, args=(i, s)) for i, s in enumerate(qs)]
[t.start() for t in ts]
[t.join() for t in ts]
for i, s in enumerate(qs):
    assert out[i] == out[i % 5], (s, out[i], out[i % 5])

s = stats(sock)
assert s["methods"]["decl.find"]["requests"] >= 30, s["methods"]["decl.find"]
assert s["http"]["responses"]["4xx"] >= 8, s["http"]
PY
stop_daemon
echo "http_json: Loogle's /json shapes, errors and suggestions, strict decoding, CORS, imports"
