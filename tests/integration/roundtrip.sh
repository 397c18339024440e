#!/bin/sh
# Round trips of the text module format over the example library:
#   dump → pack → same bytes: every packed module, written back as text by
#     `envpool dump --text` and packed again, is byte-identical (cmp);
#   pack → dump: `envpool dump --text` gives back every declaration of the
#     sources statement for statement (doc comments included, whitespace
#     aside), and `envpool dump --json` shows every declaration with its
#     kind, universe parameters and type, plus the constructors and recursor
#     pack derives for each inductive type.
set -eu
B=${ENVPOOL_BUILD:?}
. "$(dirname "$0")/lib/common.sh"
T=$TMP
export ENVPOOL_CHECK_LEAKS=1

"$B/envpool" pack examples/*.txt -o "$T/a"
mkdir "$T/text"
n=0
for src in examples/*.txt; do
    mod=$(basename "$src" .txt)
    f="$T/a/$(echo "$mod" | tr . /).olean"
    "$B/envpool" dump --text "$f" > "$T/text/$mod.txt" || { echo "dump --text failed: $f"; exit 1; }
    "$B/envpool" dump --json "$f" > "$T/text/$mod.json" || { echo "dump --json failed: $f"; exit 1; }
    n=$((n + 1))
done
[ "$n" -ge 8 ] || { echo "expected at least 8 example modules, got $n"; exit 1; }

"$B/envpool" pack "$T"/text/*.txt -o "$T/b" || { echo "pack of the dumped texts failed"; exit 1; }
for src in examples/*.txt; do
    rel="$(basename "$src" .txt | tr . /).olean"
    cmp "$T/a/$rel" "$T/b/$rel" || { echo "dump --text → pack differs: $rel"; exit 1; }
done

python3 - "$T/text" examples/*.txt <<'EOF'
import json, re, sys

out_dir, sources = sys.argv[1], sys.argv[2:]
KINDS = {"axiom": "axiom", "def": "def", "theorem": "theorem", "opaque": "opaque", "inductive": "inductive"}

def statements(path):
    """Statements as pack cuts them: doc comment + declaration, whitespace folded."""
    text = open(path, encoding="utf-8").read()
    res, doc, i = [], None, 0
    lines = text.split("\n")
    while i < len(lines):
        line = lines[i]
        s = line.strip()
        i += 1
        if not s or s.startswith("--"):
            continue
        if s.startswith("/--"):
            body = s
            while "-/" not in body:
                body += "\n" + lines[i]
                i += 1
            doc = body[3:body.index("-/")].strip()
            continue
        if line[0] in " \t|":
            part = "\n| " + s[1:].strip() if s.startswith("|") else " " + s
            res[-1] = (res[-1][0], res[-1][1] + part)
            continue
        res.append((doc, s))
        doc = None
    return [(d, re.sub(r"[ \t]+", " ", s).replace(" \n", "\n")) for d, s in res]

def split_decl(stmt):
    """kind, name, level params, binders text, type text (before ':=' at top level)."""
    kind, rest = stmt.split(" ", 1)
    m = re.match(r"(\S+?)(?:\.\{([^}]*)\})?(?=[\s:({\[⦃])", rest)
    name, lps = m.group(1), [u.strip() for u in (m.group(2) or "").split(",") if u.strip()]
    rest = rest[m.end():]
    depth, colon = 0, None
    for k, ch in enumerate(rest):
        if ch in "([{⦃":
            depth += 1
        elif ch in ")]}⦄":
            depth -= 1
        elif ch == ":" and depth == 0 and rest[k:k + 2] != ":=":
            colon = k
            break
    binders, after = rest[:colon].strip(), rest[colon + 1:]
    typ = after.split("\n|")[0]
    depth = 0
    for k, ch in enumerate(typ):
        if ch in "([{⦃":
            depth += 1
        elif ch in ")]}⦄":
            depth -= 1
        elif depth == 0 and typ[k:k + 2] == ":=":
            typ = typ[:k]
            break
    return kind, name, lps, binders, typ.strip()

def binder_types(binders):
    """The type texts of '(x : A) {y : B} …'."""
    out, depth, start = [], 0, None
    for k, ch in enumerate(binders):
        if ch in "([{⦃":
            if depth == 0:
                start = k + 1
            depth += 1
        elif ch in ")]}⦄":
            depth -= 1
            if depth == 0:
                out.append(binders[start:k].split(":", 1)[1].strip())
    return out

total_decls = total_consts = 0
for src in sources:
    mod = src.rsplit("/", 1)[-1][:-4]
    want = [s for s in statements(src) if not s[1].startswith(("module ", "import "))]
    got = [s for s in statements(f"{out_dir}/{mod}.txt") if not s[1].startswith(("module ", "import "))]
    if want != got:
        for w, g in zip(want, got):
            if w != g:
                sys.exit(f"{src}: dump --text differs:\n  source: {w}\n  dumped: {g}")
        sys.exit(f"{src}: {len(want)} declarations, dump --text has {len(got)}")
    consts = json.loads(open(f"{out_dir}/{mod}.json", encoding="utf-8").read())["constants"]
    by_name = {c["name"]: c for c in consts}
    expected = 0
    for _, stmt in want:
        kind, name, lps, binders, typ = split_decl(stmt)
        c = by_name.get(name)
        if c is None or c["kind"] != KINDS[kind] or c["level_params"] != lps:
            sys.exit(f"{src}: {kind} {name}.{{{', '.join(lps)}}} is shown as {c and (c['kind'], c['level_params'])}")
        # The printed type: the source's when no binders come before the colon;
        # else each binder's type and then the result type, in that order
        # (binders print as ∀ or →, without their names when unused).
        parts = binder_types(binders) + [typ]
        pos, ok = 0, (c["type"] == typ) if not binders else c["type"].endswith(typ)
        for part in parts:
            k = c["type"].find(part, pos)
            ok = ok and k >= 0
            pos = k + len(part) if k >= 0 else pos
        if not ok:
            sys.exit(f"{src}: {name}: type '{c['type']}', source '{binders} : {typ}'")
        expected += 1
        if kind == "inductive":
            ctors = [l.split()[0] for l in stmt.split("\n| ")[1:]]
            if c["ctors"] != [f"{name}.{k}" for k in ctors]:
                sys.exit(f"{src}: {name}: ctors {c['ctors']}")
            for k, ctor in enumerate(c["ctors"]):
                kc = by_name.get(ctor)
                if not kc or kc["kind"] != "ctor" or kc["induct"] != name or kc["cidx"] != k:
                    sys.exit(f"{src}: constructor {ctor}: {kc}")
            rec = by_name.get(name + ".rec")
            if not rec or rec["kind"] != "rec" or rec["rules"] != c["ctors"]:
                sys.exit(f"{src}: recursor {name}.rec: {rec}")
            expected += len(ctors) + 1
    if expected != len(consts):
        sys.exit(f"{src}: {len(consts)} constants in the file, {expected} declared or derived")
    total_decls += len(want)
    total_consts += len(consts)
print(f"roundtrip: {len(sources)} modules: {total_decls} declarations back from dump --text and --json, "
      f"{total_consts} constants")
EOF
echo "roundtrip: $n modules: dump --text → pack byte-identical"
