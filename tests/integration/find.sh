#!/bin/sh
# decl.find, decl.uses and decl.used_by over a real socket: result shapes,
# paging with cursors, every error (syntax with its column, unknown names with
# candidates, bad params, unknown env, declaration not found), and the index
# counters in pool.stats.
. "$(dirname "$0")/lib/daemon.sh"

ls "$BUILD/examples/Demo/"*.olean >/dev/null 2>&1 || fail "build/examples is missing (run make)"
start_daemon --search-path "$BUILD/examples"
py - "$SOCK" <<'PY' || fail "decl.find protocol"
import sys
from rpc import Conn, error_code, stats
c = Conn(sys.argv[1])
imp = ["Demo.Main"]
r = c.call("decl.find", {"imports": imp, "query": "Nat.add ?a Nat.zero = ?a"})["result"]
assert set(r) == {"items", "count", "next_cursor", "header"}, r
assert r["count"] == 1 and r["next_cursor"] is None, r
it = r["items"][0]
assert it == {"name": "Nat.add_zero", "kind": "theorem", "module": "Demo.Nat",
              "type": "∀ (n : Nat), Eq.{1} Nat (Nat.add n Nat.zero) n", "doc": None}, it
assert r["header"].startswith("Found 2 declarations mentioning "), r["header"]
# paging: pages of 2 joined equal one page of all, in the same order
whole = c.call("decl.find", {"imports": imp, "query": "Nat", "limit": 1000})["result"]
names, cursor = [], None
while True:
    p = {"imports": imp, "query": "Nat", "limit": 2}
    if cursor:
        p["cursor"] = cursor
    page = c.call("decl.find", p)["result"]
    assert page["count"] == whole["count"]
    names += [i["name"] for i in page["items"]]
    cursor = page["next_cursor"]
    if cursor is None:
        break
assert names == [i["name"] for i in whole["items"]], names
# kinds and internal
th = c.call("decl.find", {"imports": imp, "query": "Nat", "kinds": ["theorem"], "limit": 1000})["result"]
assert th["items"] and all(i["kind"] == "theorem" for i in th["items"])
with_rec = c.call("decl.find", {"imports": imp, "query": "Nat", "internal": True, "limit": 1000})["result"]
assert "Nat.rec" in [i["name"] for i in with_rec["items"]]
assert "Nat.rec" not in [i["name"] for i in whole["items"]]
# on an env handle too
h = c.call("env.open", {"imports": imp})["result"]["env"]
assert c.call("decl.find", {"env": h, "query": "\"add_comm\""})["result"]["count"] >= 1
# errors
m = c.call("decl.find", {"imports": imp, "query": "(_ +"})
assert error_code(m) == -32602 and m["error"]["data"] == {"param": "query", "column": 5}, m
m = c.call("decl.find", {"imports": imp, "query": "Nat, add_comm"})
assert error_code(m) == -32602, m
d = m["error"]["data"]
assert d["column"] == 6 and d["name"] == "add_comm" and d["candidates"] == ["Nat.add_comm"], d
m = c.call("decl.find", {"imports": imp, "query": "Nat", "cursor": "zz"})
assert error_code(m) == -32602 and m["error"]["data"]["param"] == "cursor", m
for bad in [{"query": 3}, {"query": "Nat", "limit": 0}, {"query": "Nat", "kinds": ["lemma"]}, {"query": "Nat", "typo": 1}]:
    p = {"imports": imp}
    p.update(bad)
    assert error_code(c.call("decl.find", p)) == -32602, bad
assert error_code(c.call("decl.find", {"env": 99, "query": "Nat"})) == -32005
# kinds and cursor are checked alike by decl.search, decl.find, decl.uses and the info lists
for method, p in [("decl.search", {"query": "Nat", "kinds": ["lemma"]}), ("decl.search", {"query": "Nat", "cursor": "0"}),
                  ("decl.uses", {"name": "Nat.add_comm", "cursor": "x1"}), ("attr.list", {"attr": "simp", "cursor": "-3"})]:
    p["imports"] = imp
    m = c.call(method, p)
    want = "kinds" if "kinds" in p else "cursor"
    assert error_code(m) == -32602 and m["error"]["data"]["param"] == want, (method, p, m)
assert error_code(c.call("decl.find", {"imports": ["No.Such"], "query": "Nat"})) == -32001
# uses / used_by
u = c.call("decl.uses", {"imports": imp, "name": "Nat.add_comm", "in": "type"})["result"]
assert [i["name"] for i in u["items"]] == ["Eq", "Nat", "Nat.add"] and u["truncated"] is False, u
assert u["items"][2] == {"name": "Nat.add", "depth": 1, "kind": "def", "module": "Demo.Nat"}
t = c.call("decl.uses", {"imports": imp, "name": "Nat.double", "in": "value", "transitive": True})["result"]
assert "Nat.rec" in [i["name"] for i in t["items"]], t
ub = c.call("decl.used_by", {"imports": imp, "name": "Nat.double"})["result"]
assert [i["name"] for i in ub["items"]] == ["Demo.compose", "Demo.quad", "Nat.double_eq"], ub
ub = c.call("decl.used_by", {"imports": imp, "name": "Nat.double", "in": "type"})["result"]
assert [i["name"] for i in ub["items"]] == ["Nat.double_eq"], ub
pg = c.call("decl.used_by", {"imports": imp, "name": "Nat", "limit": 2})["result"]
assert len(pg["items"]) == 2 and pg["next_cursor"] == "2", pg
pg2 = c.call("decl.used_by", {"imports": imp, "name": "Nat", "limit": 2, "cursor": "2"})["result"]
assert pg2["items"][0]["name"] != pg["items"][0]["name"]
m = c.call("decl.used_by", {"imports": imp, "name": "No.such"})
assert error_code(m) == -32004, m
assert error_code(c.call("decl.uses", {"imports": imp, "name": "Nat", "in": "all"})) == -32602
assert error_code(c.call("decl.uses", {"imports": imp, "name": "Nat", "depth": 0})) == -32602
assert error_code(c.call("decl.uses", {"imports": imp, "name": "Nat", "cursor": "x"})) == -32602
s = stats(sys.argv[1])
pool = s["pool"]
assert pool["find_index_builds"] >= 2 and pool["find_index_bytes"] > 0, pool
assert s["methods"]["decl.find"]["requests"] >= 10
PY

# The CLI: envpool find / uses / used-by, readable and --json, paging, --all, errors.
export ENVPOOL_SOCKET="$SOCK"
E="$BUILD/envpool"
$E find --imports Demo.Main 'Nat.add ?a Nat.zero = ?a' > "$TMP/f1.txt" || fail "envpool find"
grep -q '^Found 2 declarations mentioning ' "$TMP/f1.txt" || { cat "$TMP/f1.txt"; fail "find: header"; }
grep -q '^Nat.add_zero  theorem  Demo.Nat$' "$TMP/f1.txt" || { cat "$TMP/f1.txt"; fail "find: item line"; }
grep -q '^  : ∀ (n : Nat), Eq.{1} Nat (Nat.add n Nat.zero) n$' "$TMP/f1.txt" || fail "find: type line"
$E find --imports Demo.Main --limit 2 Nat > "$TMP/f2.txt" || fail "envpool find --limit"
[ "$(grep -c '^  : ' "$TMP/f2.txt")" -eq 2 ] || fail "find --limit 2: not 2 items"
cur=$(sed -n 's/^(more: --cursor \(.*\), or --all)$/\1/p' "$TMP/f2.txt")
[ -n "$cur" ] || { cat "$TMP/f2.txt"; fail "find: paging hint"; }
$E find --imports Demo.Main --limit 2 --cursor "$cur" Nat > "$TMP/f3.txt" || fail "envpool find --cursor"
[ "$(sed -n 2p "$TMP/f2.txt")" != "$(sed -n 2p "$TMP/f3.txt")" ] || fail "find --cursor: same page"
# --all (pages of 3) joins to the same list as one page of 1000, in --json too
$E find --imports Demo.Main --limit 3 --all --json Nat > "$TMP/all.json" || fail "find --all --json"
$E find --imports Demo.Main --limit 1000 --json Nat > "$TMP/one.json" || fail "find --json"
py - "$TMP/all.json" "$TMP/one.json" <<'PY' || fail "find --all differs from one page"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
assert a["items"] == b["items"] and a["next_cursor"] is None and a["count"] == len(a["items"]) > 3, a
PY
$E find --imports Demo.Main --kinds theorem --internal Nat --all | grep -q '^Nat.add_comm  theorem ' || fail "find --kinds"
set +e
$E find --imports Demo.Main 'Nat, add_comm' > /dev/null 2> "$TMP/ferr.txt"; st=$?
set -e
[ "$st" -eq 1 ] || fail "find unknown name: status $st"
grep -q "column 6: unknown identifier 'add_comm'" "$TMP/ferr.txt" || { cat "$TMP/ferr.txt"; fail "find: error text"; }
grep -q 'did you mean: Nat.add_comm' "$TMP/ferr.txt" || { cat "$TMP/ferr.txt"; fail "find: candidates"; }
set +e
$E find --imports Demo.Main --all --cursor x Nat > /dev/null 2>&1; st1=$?
$E find Nat > /dev/null 2>&1; st2=$?
$E uses --imports Demo.Main --in all Nat > /dev/null 2>&1; st3=$?
$E uses --imports Demo.Main --depth 0 Nat > /dev/null 2>&1; st4=$?
$E uses --imports Demo.Main No.such > /dev/null 2>&1; st5=$?
set -e
[ "$st1$st2$st3$st4$st5" = 22221 ] || fail "usage errors: $st1$st2$st3$st4$st5"
$E uses --imports Demo.Main --in type Nat.add_comm > "$TMP/u.txt" || fail "envpool uses"
[ "$(awk '{print $1}' "$TMP/u.txt" | tr '\n' ' ')" = "Eq Nat Nat.add " ] || { cat "$TMP/u.txt"; fail "uses: names"; }
grep -q '^Nat.add  *def  *Demo.Nat$' "$TMP/u.txt" || fail "uses: item line"
$E uses --imports Demo.Main --in value --transitive Nat.double > "$TMP/ut.txt" || fail "envpool uses --transitive"
grep -q '^Nat.rec  *rec  *Demo.Nat  depth 2$' "$TMP/ut.txt" || { cat "$TMP/ut.txt"; fail "uses --transitive: depth"; }
$E used-by --imports Demo.Main Nat.double > "$TMP/ub.txt" || fail "envpool used-by"
[ "$(awk '{print $1}' "$TMP/ub.txt" | tr '\n' ' ')" = "Demo.compose Demo.quad Nat.double_eq " ] || { cat "$TMP/ub.txt"; fail "used-by"; }
$E used-by --imports Demo.Main --limit 2 Nat | grep -q '^(more: --cursor 2, or --all)$' || fail "used-by paging hint"
$E used-by --imports Demo.Main --limit 2 --all --json Nat > "$TMP/uball.json" || fail "used-by --all"
$E used-by --imports Demo.Main --limit 1000 --json Nat > "$TMP/ubone.json" || fail "used-by --json"
py - "$TMP/uball.json" "$TMP/ubone.json" <<'PY' || fail "used-by --all differs from one page"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
assert a["items"] == b["items"] and a["next_cursor"] is None and len(a["items"]) > 2, a
PY
$E find --help | grep -q '^usage: envpool find' || fail "find --help"
$E used-by --help | grep -q -- '--transitive' || fail "used-by --help"
stop_daemon
echo "find: decl.find/uses/used_by shapes, paging, errors, counters; the CLI"
