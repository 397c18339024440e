#!/bin/sh
# tests/integration/decl_info.sh — what the extension entries say, over the real
# daemon and socket, from real samples opened as partial environments: decl.get's
# doc, range, source, attrs, attr_info, fields and parents (checked against
# zk-lean's ZkLean/Formalism.lean at 3ca4245 and MyNatDef's entries); module.doc,
# instance.list, attr.list and decl.children with paging and every error; the
# same through an env handle; the CLI commands (get, doc, instances, children,
# attr) and their text; --source-path and $ENVPOOL_SOURCE_PATH for "source".
set -eu
. "$(dirname "$0")/lib/daemon.sh"
need_samples
ZK="$SAMPLES/zk-lean@3ca4245/.lake/build/lib/lean"
CS="$SAMPLES/CS-MathInLean@143a71d/build/lib"
start_daemon --search-path "$ZK:$CS"

python3 - "$SOCK" <<'PY' || fail "protocol checks"
import sys
from rpc import Conn, error_code
c = Conn(sys.argv[1])
ZK = {"imports": ["ZkLean.Formalism"], "partial": True}
MY = {"imports": ["MyNatDef"], "partial": True}
ADD = {"imports": ["MyNatAdd"], "partial": True}

def ok(m):
    assert "result" in m, m
    return m["result"]

def bad(m, code, param=None):
    assert error_code(m) == code, m
    if param:
        assert m["error"]["data"]["param"] == param, m

# decl.get: the first one of an environment builds its declaration info on a worker
r = ok(c.call("decl.get", dict(ZK, name="run_circuit")))
for k in ("doc", "range", "source", "attrs", "attr_info"):
    assert k in r, (k, sorted(r))
# ZkLean/Formalism.lean:11 "/-- Run a circuit‑building *program* and then evaluate the resulting circuit. -/"
assert r["doc"] == "Run a circuit\u2011building *program* and then evaluate the resulting circuit. ", r["doc"]
# :11 doc comment … :18 "  semantics witness state₁" (26 columns); name at :12 columns 4..15
assert r["range"] == {"start": {"line": 11, "column": 0, "column_utf16": 0},
                      "end": {"line": 18, "column": 26, "column_utf16": 26},
                      "selection": {"start": {"line": 12, "column": 4, "column_utf16": 4},
                                    "end": {"line": 12, "column": 15, "column_utf16": 15}}}, r["range"]
assert r["source"] is None and r["attrs"] == [] and r["attr_info"] == {}
again = ok(c.call("decl.get", dict(ZK, name="run_circuit")))  # now ready: answered on the loop (or cached)
assert again == r
aux = ok(c.call("decl.get", dict(ZK, name="run_circuit.match_1")))
assert aux["doc"] is None and aux["range"] is None and aux["attrs"] == ["inline"], aux

inst = ok(c.call("decl.get", dict(MY, name="MyNat.instBEqMyNat")))
assert inst["attrs"] == ["instance"], inst["attrs"]
assert inst["attr_info"] == {"instance": {"class": "BEq", "priority": 1000}}, inst["attr_info"]
cases = ok(c.call("decl.get", dict(MY, name="MyNat.MyNat.casesOn")))
assert cases["attrs"] == ["reducible", "protected"], cases["attrs"]
ind = ok(c.call("decl.get", dict(MY, name="MyNat.MyNat")))
assert ind["fields"] is None and ind["parents"] is None  # an inductive type, not a structure
ctor = ok(c.call("decl.get", dict(MY, name="MyNat.MyNat.succ")))
assert ctor["fields"] == 1 and "parents" not in ctor  # a constructor's field count, as before
bad(c.call("decl.get", dict(MY, name="x", partial="yes")), -32602, "partial")

# instance.list: Lean's order (equal priorities: the later declared first), paging
r = ok(c.call("instance.list", dict(MY, **{"class": "Inhabited", "limit": 1})))
assert r["class"] == "Inhabited" and [i["name"] for i in r["items"]] == ["MyNat.instInhabitedMyNat_1"], r
assert r["items"][0] == {"name": "MyNat.instInhabitedMyNat_1", "module": "MyNatDef", "priority": 1000}
r2 = ok(c.call("instance.list", dict(MY, **{"class": "Inhabited", "limit": 1, "cursor": r["next_cursor"]})))
assert [i["name"] for i in r2["items"]] == ["MyNat.instInhabitedMyNat"] and r2["next_cursor"] is None, r2
assert ok(c.call("instance.list", dict(MY, **{"class": "NoSuch"})))["items"] == []
bad(c.call("instance.list", MY), -32602, "class")
bad(c.call("instance.list", dict(MY, **{"class": "a..b"})), -32602, "class")
bad(c.call("instance.list", dict(MY, **{"class": "BEq", "cursor": "99"})), -32602, "cursor")

# attr.list: pages of 4 joined = one page of 9
names, cur = [], None
while True:
    p = dict(MY, attr="instance", limit=4)
    if cur:
        p["cursor"] = cur
    r = ok(c.call("attr.list", p))
    assert r["attr"] == "instance" and len(r["items"]) <= 4
    names += [i["name"] for i in r["items"]]
    cur = r["next_cursor"]
    if cur is None:
        break
whole = ok(c.call("attr.list", dict(MY, attr="instance", limit=100)))
assert names == [i["name"] for i in whole["items"]] and len(names) == 9, names
assert all(set(i) == {"name", "kind", "module"} and i["kind"] == "def" for i in whole["items"])
assert ok(c.call("attr.list", dict(MY, attr="deprecated")))["items"] == []
bad(c.call("attr.list", dict(MY, attr="bogus")), -32602, "attr")
bad(c.call("attr.list", MY), -32602, "attr")
bad(c.call("attr.list", dict(MY, attr="simp", limit=0)), -32602, "limit")
bad(c.call("attr.list", dict(MY, attr="simp", limit=1001)), -32602, "limit")
bad(c.call("attr.list", dict(MY, attr="simp", cursor="x")), -32602, "cursor")
bad(c.call("attr.list", dict(MY, attr="simp", cursor="0")), -32602, "cursor")
bad(c.call("attr.list", dict(MY, attr="simp", extra=1)), -32602, "extra")

# decl.children: declarations and sub-namespaces directly inside, in name order, paged
r = ok(c.call("decl.children", dict(MY, namespace="MyNat", limit=1000)))
items = r["items"]
assert r["namespace"] == "MyNat" and r["next_cursor"] is None
assert {"name": "MyNat.MyNat", "kind": "inductive", "module": "MyNatDef"} in items, items[:4]
assert {"name": "MyNat.MyNat", "kind": "namespace"} in items
assert all(i["name"].startswith("MyNat.") and "." not in i["name"][6:] for i in items)
paged, cur = [], None
while True:
    p = dict(MY, namespace="MyNat", limit=3)
    if cur:
        p["cursor"] = cur
    r = ok(c.call("decl.children", p))
    paged += r["items"]
    cur = r["next_cursor"]
    if cur is None:
        break
assert paged == items
root = ok(c.call("decl.children", dict(MY, namespace="")))["items"]
assert {"name": "MyNat", "kind": "namespace"} in root, root
assert ok(c.call("decl.children", dict(MY, namespace="Nope")))["items"] == []
bad(c.call("decl.children", MY), -32602, "namespace")
bad(c.call("decl.children", dict(MY, namespace=3)), -32602, "namespace")
bad(c.call("decl.children", dict(MY, namespace="MyNat", cursor="123456789")), -32602, "cursor")

# module.doc: MyNatAdd's two module docstrings, in source order; per module; errors
r = ok(c.call("module.doc", ADD))
assert [d["module"] for d in r["items"]] == ["MyNatAdd", "MyNatAdd"] and r["next_cursor"] is None
assert r["items"][0]["doc"].startswith("# Addition World.") and r["items"][0]["range"]["start"]["line"] == 17
r = ok(c.call("module.doc", dict(ADD, module="MyNatAdd", limit=1)))
assert len(r["items"]) == 1 and r["next_cursor"] is not None
r = ok(c.call("module.doc", dict(ADD, module="MyNatAdd", limit=1, cursor=r["next_cursor"])))
assert r["items"][0]["range"]["start"]["line"] == 56 and r["next_cursor"] is None
assert ok(c.call("module.doc", ZK))["items"] == []
bad(c.call("module.doc", dict(ADD, module="Nope")), -32602, "module")

# the same through an env handle
h = ok(c.call("env.open", {"imports": ["MyNatDef"], "partial": True}))["env"]
r = ok(c.call("instance.list", {"env": h, "class": "BEq"}))
assert [i["name"] for i in r["items"]] == ["MyNat.instBEqMyNat"], r
assert ok(c.call("decl.get", {"env": h, "name": "MyNat.instBEqMyNat"}))["attrs"] == ["instance"]
ok(c.call("env.close", {"env": h}))
bad(c.call("attr.list", {"env": h, "attr": "simp"}), -32005)
print("decl info: protocol ok")
PY

# The CLI: get prints the doc, MODULE:LINE:COL (no .lean file beside the samples) and attributes.
export ENVPOOL_SOCKET="$SOCK"
E="$BUILD/envpool"
$E get --imports ZkLean.Formalism --partial run_circuit > "$TMP/get.txt" || fail "envpool get"
grep -q '^  doc: Run a circuit' "$TMP/get.txt" || fail "get: no doc line"
grep -q '^  at: ZkLean.Formalism:11:1$' "$TMP/get.txt" || fail "get: no location"
$E get --imports MyNatDef --partial MyNat.instBEqMyNat > "$TMP/get2.txt" || fail "envpool get 2"
grep -q '^  attrs: instance (class BEq priority 1000)$' "$TMP/get2.txt" || { cat "$TMP/get2.txt"; fail "get: attrs"; }
$E instances --imports MyNatDef --partial Inhabited > "$TMP/inst.txt" || fail "envpool instances"
[ "$(head -1 "$TMP/inst.txt" | awk '{print $1}')" = MyNat.instInhabitedMyNat_1 ] || fail "instances order"
$E attr --imports MyNatDef --partial --limit 4 instance > "$TMP/attr.txt" || fail "envpool attr"
grep -q '^(more: --cursor 5)$' "$TMP/attr.txt" || fail "attr: paging hint"
$E children --imports MyNatDef --partial MyNat | grep -q '^MyNat.MyNat  *namespace' || fail "children"
$E doc --imports MyNatAdd --partial --module MyNatAdd | grep -q '^MyNatAdd:17:1$' || fail "doc"
# decl.find's items carry the docstring too (with --partial, like the others)
$E find --imports ZkLean.Formalism --partial --json '"run_circuit"' > "$TMP/find.json" || fail "envpool find --partial"
grep -q '"doc": "Run a circuit' "$TMP/find.json" || { cat "$TMP/find.json"; fail "find: no doc"; }
set +e
$E attr --imports MyNatDef --partial bogus > /dev/null 2>&1; st=$?
set -e
[ "$st" -eq 1 ] || fail "attr bogus: status $st"
stop_daemon

# --source-path: decl.get's "source" is A/B.lean under the first directory that
# has it (one without it is passed over); $ENVPOOL_SOURCE_PATH when the flag is
# absent; a module under none of them keeps null; envpool get prints FILE:LINE:COL.
mkdir -p "$TMP/nosrc" "$TMP/src/ZkLean" "$TMP/envsrc"
printf -- '-- ZkLean/Formalism.lean\n' > "$TMP/src/ZkLean/Formalism.lean"
printf -- '-- MyNatDef.lean\n' > "$TMP/envsrc/MyNatDef.lean"
start_daemon --search-path "$ZK:$CS" --source-path "$TMP/nosrc:$TMP/src"
grep -q "source-path=$TMP/nosrc:$TMP/src " "$TMP/daemon.log" || fail "source-path not in the startup summary"
python3 - "$SOCK" "$TMP" <<'PY' || fail "source-path"
import os, sys
from rpc import Conn
c = Conn(sys.argv[1])
tmp = os.path.realpath(sys.argv[2])
r = c.call("decl.get", {"imports": ["ZkLean.Formalism"], "partial": True, "name": "run_circuit"})["result"]
assert r["source"] == tmp + "/src/ZkLean/Formalism.lean", r["source"]
r = c.call("decl.get", {"imports": ["MyNatDef"], "partial": True, "name": "MyNat.instBEqMyNat"})["result"]
assert r["source"] is None, r["source"]
PY
$E get --imports ZkLean.Formalism --partial run_circuit > "$TMP/get3.txt" || fail "envpool get 3"
grep -q "^  at: .*/src/ZkLean/Formalism.lean:11:1\$" "$TMP/get3.txt" || { cat "$TMP/get3.txt"; fail "get: source location"; }
stop_daemon
ENVPOOL_SOURCE_PATH="$TMP/envsrc" start_daemon --search-path "$ZK:$CS"
python3 - "$SOCK" "$TMP" <<'PY' || fail "ENVPOOL_SOURCE_PATH"
import os, sys
from rpc import Conn
c = Conn(sys.argv[1])
tmp = os.path.realpath(sys.argv[2])
r = c.call("decl.get", {"imports": ["MyNatDef"], "partial": True, "name": "MyNat.instBEqMyNat"})["result"]
assert r["source"] == tmp + "/envsrc/MyNatDef.lean", r["source"]
PY
stop_daemon
# A source directory that does not exist is refused at startup, precisely.
set +e
"$BUILD/envpoold" --socket "$TMP/bad.sock" --search-path "$ZK" --source-path "$TMP/missing" 2> "$TMP/bad.log"; st=$?
set -e
[ "$st" -ne 0 ] || fail "a missing --source-path directory was accepted"
grep -q "source path: directory $TMP/missing: No such file or directory" "$TMP/bad.log" || { cat "$TMP/bad.log"; fail "source-path error"; }
"$BUILD/envpoold" --help | grep -q -- "--source-path DIRS" || fail "--help lacks --source-path"
echo "decl_info: ok"
