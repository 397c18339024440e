#!/bin/sh
# tests/integration/dump.sh — `envpool dump` on every sample: --json output has
# exactly the shape issue 2 specifies (checked with python3's json module), the
# human output has a header and a summary, extension entries are shown in both
# (a sample's docstring and range against its source; a malformed entry costs only itself), and damaged or missing files give a
# one-line error on stderr with exit status 1 (never a signal).
set -eu
BUILD=${ENVPOOL_BUILD:-build}
ENVPOOL="$BUILD/envpool"
. "$(dirname "$0")/lib/common.sh"
need_samples
tmp=$TMP

find "$SAMPLES" -name '*.olean' | sort > "$tmp/list"
[ -s "$tmp/list" ] || { echo "no samples in $SAMPLES" >&2; exit 1; }

# JSON: one object per file, in order.
tr '\n' '\0' < "$tmp/list" | xargs -0 "$ENVPOOL" dump --json > "$tmp/out.json"
python3 - "$tmp/out.json" "$tmp/list" <<'PY'
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
paths = open(sys.argv[2]).read().splitlines()
assert len(lines) == len(paths), (len(lines), len(paths))
KINDS = {"axiom", "def", "theorem", "opaque", "quot", "inductive", "ctor", "rec"}
EXTRA = {
    "inductive": {"ctors", "num_params", "num_indices", "is_rec"},
    "ctor": {"induct", "cidx", "num_params", "num_fields"},
    "rec": {"num_params", "num_indices", "num_motives", "num_minors", "rules", "k"},
    "def": {"safety", "hints"},
    "axiom": {"is_unsafe"},
    "opaque": {"is_unsafe"},
    "theorem": set(),
    "quot": set(),
}
BASE = {"name", "kind", "level_params", "type"}
total = 0
for line, path in zip(lines, paths):
    d = json.loads(line)
    assert set(d) == {"path", "format", "lean_version", "githash", "base", "objects",
                      "imports", "constants", "extensions"}, sorted(d)
    for x in d["extensions"]:
        assert isinstance(x["name"], str) and isinstance(x["count"], int)
        if x["kind"] is None:
            assert set(x) == {"name", "kind", "count"}, x
        else:  # every entry of the real samples decodes
            assert len(x["entries"]) == x["count"], x["name"]
    assert d["path"] == path
    assert d["format"] in ("v0", "v1", "v2")
    assert (d["lean_version"] is None) == (d["format"] != "v2")
    assert (d["githash"] is None) == (d["format"] == "v0")
    assert d["base"].startswith("0x") and int(d["base"], 16) % 65536 == 0
    assert isinstance(d["objects"], int) and d["objects"] > 0
    assert d["imports"] and d["imports"][0]["module"] == "Init"
    for im in d["imports"]:
        keys = set(im) - {"module"}
        assert keys in ({"runtime_only"}, {"import_all", "is_exported", "is_meta"}), keys
        assert all(isinstance(im[k], bool) for k in keys)
    for c in d["constants"]:
        assert c["kind"] in KINDS
        assert set(c) == BASE | EXTRA[c["kind"]], (c["name"], sorted(c))
        assert isinstance(c["level_params"], list)
        assert isinstance(c["type"], str) and c["type"]
        if c["kind"] == "def":
            assert c["safety"] in ("unsafe", "safe", "partial")
            assert c["hints"] in ("opaque", "abbrev") or c["hints"].startswith("regular ")
        if c["kind"] == "rec":
            assert len(c["rules"]) == c["num_minors"]
    total += len(d["constants"])
assert total > 300, total
# spot checks (lean-olean-format.md §6)
by_path = {json.loads(l)["path"].split("/")[-1]: json.loads(l) for l in lines}
mynat = by_path["MyNatDef.olean"]
assert [i["module"] for i in mynat["imports"]] == ["Init", "Mathlib.Tactic.Basic", "Mathlib.Tactic.Cases"]
c = {x["name"]: x for x in mynat["constants"]}
assert c["MyNat.myNatFromNat"]["type"] == "Nat → MyNat.MyNat"
assert c["MyNat.MyNat"]["ctors"] == ["MyNat.MyNat.zero", "MyNat.MyNat.succ"]
assert c["MyNat.MyNat.rec"]["level_params"] == ["u"]
# extension entries (zk-lean@3ca4245 ZkLean/Formalism.lean:11-18, docs/extension-entries.md)
zk = by_path["Formalism.olean"]
ext = {x["name"]: x for x in zk["extensions"]}
docs = {e["decl"]: e["doc"] for e in ext["Lean.docStringExt"]["entries"]}
assert docs["run_circuit"] == "Run a circuit\u2011building *program* and then evaluate the resulting circuit. "
rng = {e["decl"]: e["range"] for e in ext["Lean.declRangeExt"]["entries"]}["run_circuit"]
assert rng == {"start": {"line": 11, "column": 0, "column_utf16": 0},
               "end": {"line": 18, "column": 26, "column_utf16": 26},
               "selection": {"start": {"line": 12, "column": 4, "column_utf16": 4},
                             "end": {"line": 12, "column": 15, "column_utf16": 15}}}, rng
assert ext["Lean.IR.declMapExt"]["kind"] is None
print("dump --json: %d files, %d constants" % (len(lines), total))
PY

# Human text: header, imports, summary per file.
"$ENVPOOL" dump "$(sed -n 1p "$tmp/list")" > "$tmp/out.txt"
grep -q '^  format v[012], lean ' "$tmp/out.txt"
grep -q '^  imports (' "$tmp/out.txt"
grep -q '^  summary: ' "$tmp/out.txt"

# Damaged and missing files: one line on stderr, status 1, nothing on stdout.
big=$(tr '\n' '\0' < "$tmp/list" | xargs -0 ls -S | head -1)
head -c 5000 "$big" > "$tmp/truncated.olean"
set +e
"$ENVPOOL" dump --json "$tmp/truncated.olean" > "$tmp/o" 2> "$tmp/e"; st=$?
set -e
[ "$st" -eq 1 ] || { echo "truncated file: status $st" >&2; exit 1; }
[ ! -s "$tmp/o" ] || { echo "truncated file: stdout not empty" >&2; exit 1; }
[ "$(wc -l < "$tmp/e")" -eq 1 ] || { cat "$tmp/e" >&2; exit 1; }
grep -q "truncated.olean" "$tmp/e"
set +e
"$ENVPOOL" dump "$tmp/missing.olean" "$big" > "$tmp/o" 2> "$tmp/e"; st=$?
set -e
[ "$st" -eq 1 ] || { echo "missing file: status $st" >&2; exit 1; }
[ "$(wc -l < "$tmp/e")" -eq 1 ] || { cat "$tmp/e" >&2; exit 1; }
grep -q '^  summary: ' "$tmp/o"   # the good file after the bad one still printed

# Malformed extension entries (a hand-made module, tests/unit/lean/test_ext.c): each one
# line on stderr with its offset, status 1, and the rest still printed.
bad=tests/fuzz/corpus/entries/bad-entries
for mode in "" --json; do
    set +e
    "$ENVPOOL" dump $mode "$bad" > "$tmp/o" 2> "$tmp/e"; st=$?
    set -e
    [ "$st" -eq 1 ] || { echo "bad entries $mode: status $st" >&2; exit 1; }
    [ "$(grep -c ': offset [0-9]*: .*(extension .*, entry [0-9])$' "$tmp/e")" -eq 6 ] || { cat "$tmp/e" >&2; exit 1; }
    grep -q 'Foo.bar' "$tmp/o"
done
"$ENVPOOL" dump "$bad" 2>/dev/null > "$tmp/t" || true
grep -q '^      Foo.bar: "ok"$' "$tmp/t"
grep -q '^      ! entry 1: docstring: ' "$tmp/t"
python3 -c '
import json, sys
d = json.loads(open(sys.argv[1]).read())
x = {e["name"]: e for e in d["extensions"]}
assert x["Lean.docStringExt"]["count"] == 3 and x["Lean.docStringExt"]["entries"] == [{"decl": "Foo.bar", "doc": "ok"}]
assert len(x["Lean.declRangeExt"]["entries"]) == 1 and x["reducibilityCore"]["entries"] == []
' "$tmp/o"
grep -q '^  extensions (' "$tmp/out.txt"

# Usage errors: status 2.
set +e
"$ENVPOOL" dump > /dev/null 2>&1; st=$?
set -e
[ "$st" -eq 2 ] || { echo "no files: status $st" >&2; exit 1; }
echo "dump: ok"
