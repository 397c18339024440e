#!/bin/sh
# `envpool pack` on the example library: every module is written, validates
# (dump), is reproducible (pack twice, same bytes), re-saves to the same
# bytes (repack), and errors name FILE:LINE:COLUMN.
set -eu
B=${ENVPOOL_BUILD:?}
. "$(dirname "$0")/lib/common.sh"
T=$TMP
export ENVPOOL_CHECK_LEAKS=1

"$B/envpool" pack examples/*.txt -o "$T/a"
"$B/envpool" pack examples/*.txt -o "$T/b"
n=0
for f in "$T"/a/Demo/*.olean; do
    g="$T/b/Demo/$(basename "$f")"
    cmp "$f" "$g" || { echo "pack is not deterministic: $f"; exit 1; }
    "$B/envpool" dump "$f" > /dev/null || { echo "dump failed: $f"; exit 1; }
    "$B/envpool" repack "$f" -o "$T/re.olean" || { echo "repack failed: $f"; exit 1; }
    cmp "$f" "$T/re.olean" || { echo "repack differs: $f"; exit 1; }
    n=$((n + 1))
done
[ "$n" -eq 8 ] || { echo "expected 8 modules, got $n"; exit 1; }

# A module packed alone finds its imports in the output directory.
"$B/envpool" pack examples/Demo.Main.txt -o "$T/a"
cmp "$T/a/Demo/Main.olean" "$T/b/Demo/Main.olean"

# Errors: FILE:LINE:COLUMN.
printf 'module Bad\nimport Demo.Logic\naxiom x : Nat\n' > "$T/bad.txt"
if "$B/envpool" pack "$T/bad.txt" -o "$T/a" 2> "$T/err"; then echo "accepted an unknown constant"; exit 1; fi
grep -q "bad.txt:3:11: unknown constant 'Nat'" "$T/err" || { cat "$T/err"; exit 1; }
[ ! -e "$T/a/Bad.olean" ] || { echo "left a file behind"; exit 1; }
printf 'module Lost\nimport Nowhere\n' > "$T/lost.txt"
if "$B/envpool" pack "$T/lost.txt" -o "$T/a" 2> "$T/err"; then echo "accepted a missing import"; exit 1; fi
grep -q "import Nowhere" "$T/err" || { cat "$T/err"; exit 1; }
printf 'module C1\nimport C2\n' > "$T/c1.txt"
printf 'module C2\nimport C1\n' > "$T/c2.txt"
if "$B/envpool" pack "$T/c1.txt" "$T/c2.txt" -o "$T/a" 2> "$T/err"; then echo "accepted a cycle"; exit 1; fi
grep -q "cycle" "$T/err"
echo "pack: 8 example modules deterministic, valid, repack-identical"
