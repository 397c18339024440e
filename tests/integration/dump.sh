#!/bin/sh
# tests/integration/dump.sh — `envpool dump` on every sample: --json output has
# exactly the shape issue 2 specifies (checked with python3's json module), the
# human output has a header and a summary, and damaged or missing files give a
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
                      "imports", "constants"}, sorted(d)
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

# Usage errors: status 2.
set +e
"$ENVPOOL" dump > /dev/null 2>&1; st=$?
set -e
[ "$st" -eq 2 ] || { echo "no files: status $st" >&2; exit 1; }
echo "dump: ok"
