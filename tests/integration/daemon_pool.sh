#!/bin/sh
# The pool methods over a real socket: env.open/close, decl.get, decl.search,
# module.list, pool.drain, pool.stats, with every error code they can give
# (-32001 missing module, -32002 corrupt, -32003 unsupported, -32004 not found
# with suggestions, -32005 unknown handle, -32007 stale, -32800 cancelled,
# -32602 bad params); hit/miss/LRU/drain with the stats invariants checked on
# every snapshot; a file replaced by rename and one truncated in place while
# mapped; cancel and disconnect while an import runs.
. "$(dirname "$0")/lib/daemon.sh"

E=$BUILD/envpool
LIBDIR=$TMP/lib
mkdir -p "$LIBDIR" "$TMP/src" "$TMP/v2"
ls "$BUILD/examples/Demo/"*.olean >/dev/null 2>&1 || fail "build/examples is missing (run make)"
cp -r "$BUILD/examples/Demo" "$LIBDIR/"

# Small modules written for the error cases.
cat >"$TMP/src/Gone.txt" <<'M'
module Gone
axiom Gone.a : Prop
M
cat >"$TMP/src/Dep.txt" <<'M'
module Dep
import Gone
axiom Dep.b : Prop
M
cat >"$TMP/src/R.txt" <<'M'
module R
axiom R.first : Prop
M
cat >"$TMP/src/R2.txt" <<'M'
module R
axiom R.second : Prop
M
"$E" pack "$TMP/src/Gone.txt" "$TMP/src/Dep.txt" "$TMP/src/R.txt" -o "$LIBDIR" 2>/dev/null || fail "pack"
"$E" pack "$TMP/src/R2.txt" -o "$TMP/v2" 2>/dev/null || fail "pack R2"
rm "$LIBDIR/Gone.olean"
cp "$LIBDIR/Demo/Nat.olean" "$LIBDIR/Corrupt.olean"
size=$(stat -c %s "$LIBDIR/Corrupt.olean")
truncate -s $((size / 2)) "$LIBDIR/Corrupt.olean"
cp "$LIBDIR/R.olean" "$LIBDIR/Future.olean"
printf '\003' | dd of="$LIBDIR/Future.olean" bs=1 seek=5 conv=notrunc 2>/dev/null
cp "$LIBDIR/R.olean" "$LIBDIR/Trunc.olean"
# A larger library so that imports take a while.
"$E" gen "$LIBDIR" --prefix Big --modules 300 --decls 200 >/dev/null 2>&1 || fail "gen"

start_daemon --search-path "$LIBDIR" --capacity 2
py - "$SOCK" "$LIBDIR" "$TMP/v2" <<'PY' || fail "pool methods"
import os, sys, time, json
from rpc import Conn, error_code, stats
path, libdir, v2 = sys.argv[1], sys.argv[2], sys.argv[3]

def snap():
    s = stats(path)
    p = s["pool"]
    assert p["acquired"] == p["imports_performed"] + p["reused"], p
    assert p["releases"] == p["released_to_pool"] + p["released_dropped"], p
    assert p["resident"] == p["idle"] + p["in_use"], p
    return p

c = Conn(path)
info = c.call("server.info")["result"]
assert os.path.realpath(libdir) in info["search_path"], info
for m in ("env.open", "env.close", "decl.get", "decl.search", "module.list", "pool.drain"):
    assert m in info["methods"], m

# Miss, then hit; a second handle on the same key.
r = c.call("env.open", {"imports": ["Demo.Main"]})["result"]
assert r["env"] == 1 and r["hit"] is False and r["modules"] == 8 and r["constants"] > 100, r
assert r["key"] == "Demo.Main" and r["load_ms"] >= 0
r2 = c.call("env.open", {"imports": ["Demo.Main"]})["result"]
assert r2["env"] == 2 and r2["hit"] is True, r2
p = snap()
assert p["imports_performed"] == 1 and p["reused"] == 1 and p["in_use"] == 1, p

# module.list in import order.
mods = c.call("module.list", {"env": 1})["result"]["modules"]
names = [m["name"] for m in mods]
assert names[-1] == "Demo.Main" and names[0] == "Demo.Logic" and len(names) == 8, names
assert all(m["format"] == "v2" and m["bytes"] > 0 and m["path"].endswith(".olean") for m in mods), mods[0]

# decl.get by handle and by imports; kind-specific fields; value on request.
g = c.call("decl.get", {"env": 1, "name": "Nat.add"})["result"]
assert g["name"] == "Nat.add" and g["kind"] == "def" and g["module"] == "Demo.Nat", g
assert "→" in g["type"] and "value" not in g and g["safety"] == "safe", g
g = c.call("decl.get", {"imports": ["Demo.Main"], "name": "Nat.add", "value": True})["result"]
assert g["value"] and g["value_truncated"] is False and g["value_limit"] == 65536, g
ind = c.call("decl.get", {"env": 2, "name": "Nat"})["result"]
assert ind["kind"] == "inductive" and ind["ctors"] == ["Nat.zero", "Nat.succ"] and ind["is_rec"] is True, ind
ctor = c.call("decl.get", {"env": 2, "name": "Nat.succ"})["result"]
assert ctor["kind"] == "ctor" and ctor["induct"] == "Nat" and ctor["cidx"] == 1 and ctor["fields"] == 1, ctor
rec = c.call("decl.get", {"env": 2, "name": "Nat.rec"})["result"]
assert rec["kind"] == "rec" and rec["motives"] == 1 and rec["minors"] == 2, rec
assert [x["ctor"] for x in rec["rules"]] == ["Nat.zero", "Nat.succ"], rec
thm = c.call("decl.get", {"env": 2, "name": "Nat.add_comm"})["result"]
assert thm["kind"] == "theorem", thm

# -32004 with suggestions; bad params.
m = c.call("decl.get", {"env": 1, "name": "Nat.ad"})
assert error_code(m) == -32004 and "Nat.add" in m["error"]["data"]["suggestions"], m
m = c.call("decl.get", {"env": 1, "name": "Nat.addd"})
assert error_code(m) == -32004 and m["error"]["data"]["suggestions"], m
for params, frag in [({"name": "x"}, "param 'env': required"),
                     ({"env": 1, "imports": ["Demo.Main"], "name": "x"}, "give one, not both"),
                     ({"env": 0, "name": "x"}, "param 'env'"),
                     ({"env": 1}, "param 'name': required"),
                     ({"env": 1, "name": "x", "value": "yes"}, "param 'value'"),
                     ({"imports": [], "name": "x"}, "param 'imports': must not be empty"),
                     ({"imports": ["A..B"], "name": "x"}, "param 'imports'"),
                     ({"imports": ["../etc"], "name": "x"}, "param 'imports'")]:
    m = c.call("decl.get", params)
    assert error_code(m) == -32602 and frag in m["error"]["message"], (params, m)

# decl.search: modes, paging, kinds, limits.
s = c.call("decl.search", {"env": 1, "query": "Nat.", "mode": "prefix", "limit": 1000})["result"]
all_names = [i["name"] for i in s["items"]]
assert s["next_cursor"] is None and all(n.startswith("Nat.") for n in all_names) and len(all_names) > 10
paged, cur = [], None
while True:
    q = {"env": 1, "query": "Nat.", "mode": "prefix", "limit": 3}
    if cur: q["cursor"] = cur
    page = c.call("decl.search", q)["result"]
    paged += [i["name"] for i in page["items"]]
    cur = page["next_cursor"]
    if not cur: break
assert paged == all_names, (paged[:5], all_names[:5])
th = c.call("decl.search", {"env": 1, "query": "add", "kinds": ["theorem"]})["result"]["items"]
assert th and all(i["kind"] == "theorem" for i in th), th
fz = c.call("decl.search", {"imports": ["Demo.Main"], "query": "Ntadd", "mode": "fuzzy"})["result"]["items"]
assert any(i["name"] == "Nat.add" for i in fz), fz
for params in [{"env": 1, "query": "x", "limit": 1001}, {"env": 1, "query": "x", "mode": "regex"},
               {"env": 1, "query": "x", "cursor": "banana"}, {"env": 1, "query": "x", "kinds": ["lemma"]},
               {"env": 1}]:
    assert error_code(c.call("decl.search", params)) == -32602, params

# env.close: kept; unknown handles.
assert c.call("env.close", {"env": 2})["result"]["kept"] is True
assert error_code(c.call("env.close", {"env": 2})) == -32005
assert error_code(c.call("decl.get", {"env": 99, "name": "Nat"})) == -32005
assert error_code(c.call("env.close", {"env": "one"})) == -32602
# Handles are per connection.
other = Conn(path)
assert error_code(other.call("decl.get", {"env": 1, "name": "Nat"})) == -32005
other.close()

# Errors of the files themselves.
m = c.call("env.open", {"imports": ["Nope.Never"]})
assert error_code(m) == -32001 and m["error"]["data"]["module"] == "Nope.Never", m
m = c.call("env.open", {"imports": ["Dep"]})
assert error_code(m) == -32001 and m["error"]["data"] == {"module": "Gone", "imported_by": "Dep"}, m
m = c.call("env.open", {"imports": ["Dep"], "partial": True})["result"]
assert m["missing"] == [{"module": "Gone", "imported_by": "Dep"}] and m["modules"] == 1, m
assert m["key"].startswith("partial:"), m
assert c.call("env.close", {"env": m["env"]})["result"]["kept"] is True
m = c.call("env.open", {"imports": ["Corrupt"]})
assert error_code(m) == -32002 and m["error"]["data"]["path"].endswith("Corrupt.olean"), m
assert "reason" in m["error"]["data"] and "offset" in m["error"]["data"], m
m = c.call("env.open", {"imports": ["Future"]})
assert error_code(m) == -32003 and m["error"]["data"]["path"].endswith("Future.olean"), m
p = snap()
assert p["import_failures"] >= 4, p

# LRU with --capacity 2: three idle keys leave two.
for key in (["R"], ["Demo.Nat"], ["Demo.Bool"]):
    h = c.call("env.open", {"imports": key})["result"]["env"]
    c.call("env.close", {"env": h})
p = snap()
assert p["idle"] <= 2 and p["evicted_capacity"] >= 1, p

# Drain drops every idle environment (handle 1 stays in use).
d = c.call("pool.drain")["result"]["drained"]
p = snap()
assert d >= 1 and p["idle"] == 0 and p["in_use"] == 1 and p["drains"] == 1, (d, p)
assert c.call("decl.get", {"env": 1, "name": "Nat.add"})["result"]["kind"] == "def"

# A file replaced by rename: the next acquire of an idle environment sees the new file.
h = c.call("env.open", {"imports": ["R"]})["result"]["env"]
assert c.call("decl.get", {"env": h, "name": "R.first"})["result"]
c.call("env.close", {"env": h})
os.rename(os.path.join(v2, "R.olean"), os.path.join(libdir, "R.olean"))
deadline = time.time() + 30
while True:
    m = c.call("decl.get", {"imports": ["R"], "name": "R.second"})
    if "result" in m:
        break
    assert error_code(m) == -32004 and time.time() < deadline, m
assert error_code(c.call("decl.get", {"imports": ["R"], "name": "R.first"})) == -32004
assert snap()["evicted_stale"] >= 1

# A file truncated in place while mapped and in use: -32007, never a crash or old data.
# (The read before uses "value": true, which the reply cache does not keep, so
# this checks the decoding path; reply_cache.sh checks the cached one.)
h = c.call("env.open", {"imports": ["Trunc"]})["result"]["env"]
assert c.call("decl.get", {"env": h, "name": "R.first", "value": True})["result"]
os.truncate(os.path.join(libdir, "Trunc.olean"), 0)
m = c.call("decl.get", {"env": h, "name": "R.first"})
assert error_code(m) == -32007, m
c.call("env.close", {"env": h})
assert c.call("server.info")["result"]

# Cancel a request waiting for an import (sent in the same write, so the cancel
# is read before the import can come back), and its connection stays usable.
k = Conn(path)
k.send_raw(b'{"jsonrpc":"2.0","id":"imp","method":"env.open","params":{"imports":["Big"]}}\n'
           b'{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"imp"}}\n')
m = k.read_reply()
assert m["id"] == "imp" and error_code(m) == -32800, m
assert k.call("server.info")["result"]
# A waiting request whose connection goes away.
k.send_raw(b'{"jsonrpc":"2.0","id":"x","method":"env.open","params":{"imports":["Big"]}}\n')
k.close()
# The import still works for others; progress, if it took long enough, came first.
z = Conn(path)
z.send({"jsonrpc": "2.0", "id": 5, "method": "env.open", "params": {"imports": ["Big"]}})
progress = []
while True:
    m = z.read()
    if m.get("method") == "$/progress":
        assert m["params"]["id"] == 5 and m["params"]["loaded"] <= m["params"]["total"], m
        progress.append(m)
        continue
    break
assert m["result"]["modules"] == 301, m
if m["result"]["load_ms"] > 400 and not m["result"]["hit"]:
    assert progress, "no $/progress during a %.0f ms import" % m["result"]["load_ms"]
z.close()
c.close()
# The daemon sees the closes when its loop gets to them: wait for that (bounded), not for a time.
deadline = time.monotonic() + 30
while True:
    p = snap()
    if p["in_use"] == 0 or time.monotonic() > deadline:
        break
    time.sleep(0.02)
assert p["in_use"] == 0, p
PY
stop_daemon 0
grep -q "uv_loop_close" "$TMP/daemon.log" && fail "a libuv handle was left open"

# --max-inflight: requests waiting for an import pause reading at the limit (all
# sent in one write, so the pause happens before the import can finish), and
# every request is still answered once it finishes.
start_daemon --search-path "$LIBDIR" --max-inflight 2
py - "$SOCK" <<'PY' || fail "max-inflight"
import sys
from rpc import Conn, stats
path = sys.argv[1]
c = Conn(path)
reqs = b"".join(b'{"jsonrpc":"2.0","id":%d,"method":"decl.get","params":{"imports":["Big"],"name":"Big"}}\n' % i
                for i in range(5))
c.send_raw(reqs + b'{"jsonrpc":"2.0","id":"last","method":"server.info"}\n')
ids = []
while len(ids) < 6:
    m = c.read_reply()
    ids.append(m["id"])
assert sorted(map(str, ids)) == sorted(map(str, list(range(5)) + ["last"])), ids
assert ids[-1] == "last" or ids.index("last") >= 2, ids  # read only after the first two were answered
s = stats(path)
assert s["limits"]["max_inflight"]["limit"] == 2 and s["limits"]["max_inflight"]["hits"] >= 1, s["limits"]
PY
stop_daemon 0

# SIGTERM while a request waits for an import: the server.info sent in the same
# write is answered first (the import cannot finish during that read), so the
# env.open has been read and is in flight when the signal comes; the drain must
# still answer it, then exit 0.
start_daemon --search-path "$LIBDIR"
py - "$SOCK" "$DPID" <<'PY' || fail "SIGTERM during an import"
import os, sys, signal
from rpc import Conn
path, pid = sys.argv[1], int(sys.argv[2])
c = Conn(path)
c.send_raw(b'{"jsonrpc":"2.0","id":"open","method":"env.open","params":{"imports":["Big"]}}\n'
           b'{"jsonrpc":"2.0","id":"info","method":"server.info"}\n')
first = c.read_reply()
assert first["id"] == "info", first
os.kill(pid, signal.SIGTERM)
m = c.read_reply()
assert m["id"] == "open" and m["result"]["modules"] == 301, m
assert c.expect_eof()
PY
i=0
while kill -0 "$DPID" 2>/dev/null; do i=$((i + 1)); [ $i -lt 600 ] || fail "no exit after SIGTERM"; sleep 0.1; done
wait "$DPID"; st=$?; DPID=
[ $st = 0 ] || fail "exit status $st after SIGTERM during an import, expected 0"

# The CLI on the pool.
start_daemon --search-path "$LIBDIR"
"$E" get --socket "$SOCK" --imports Demo.Main Nat.add >"$TMP/out" || fail "envpool get"
grep -q '^def Nat.add : ' "$TMP/out" || fail "envpool get output: $(cat "$TMP/out")"
"$E" get --socket "$SOCK" --imports Demo.Main Nat.ad 2>"$TMP/err"; st=$?
[ $st = 1 ] || fail "envpool get of a missing name: status $st"
grep -q "did you mean:.*Nat.add" "$TMP/err" || fail "suggestions: $(cat "$TMP/err")"
"$E" search --socket "$SOCK" --imports Demo.Main --mode prefix Nat.add >"$TMP/out" || fail "envpool search"
grep -q '^Nat.add ' "$TMP/out" || fail "envpool search output"
"$E" modules --socket "$SOCK" --imports Demo.Main | grep -q '^Demo.Main ' || fail "envpool modules"
"$E" open --socket "$SOCK" --imports Demo.Main | grep -q 'pool hit' || fail "envpool open (hit)"
"$E" drain --socket "$SOCK" | grep -q '^drained 1 idle environment$' || fail "envpool drain"
"$E" get --socket "$SOCK" Nat.add 2>/dev/null; st=$?
[ $st = 2 ] || fail "envpool get without --imports: status $st, expected 2"
stop_daemon 0
echo "daemon_pool: ok"
