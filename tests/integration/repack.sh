#!/bin/sh
# `envpool repack` reproduces every sample byte for byte, leaks nothing, and
# fails cleanly (exit 1, no output file) on a file it cannot read or a
# destination it cannot write.
set -eu
B=${ENVPOOL_BUILD:?}
. "$(dirname "$0")/lib/common.sh"
need_samples
S=$SAMPLES T=$TMP
export ENVPOOL_CHECK_LEAKS=1

n=0
find "$S" -name '*.olean' | sort > "$T/list"
while IFS= read -r f; do
    "$B/envpool" repack "$f" -o "$T/out.olean" 2> "$T/err" || { cat "$T/err"; echo "repack failed: $f"; exit 1; }
    cmp "$f" "$T/out.olean" || { echo "not byte-identical: $f"; exit 1; }
    n=$((n + 1))
done < "$T/list"
[ "$n" -ge 24 ] || { echo "only $n samples"; exit 1; }

# A file that is not a region: error, no output.
printf 'not an olean' > "$T/bad.olean"
if "$B/envpool" repack "$T/bad.olean" -o "$T/x.olean" 2> "$T/err"; then echo "accepted garbage"; exit 1; fi
[ ! -e "$T/x.olean" ] || { echo "left an output behind"; exit 1; }
grep -q 'envpool repack:' "$T/err"

# Destination directory missing: error, nothing left in $T beyond our files.
f=$(head -n 1 "$T/list")
if "$B/envpool" repack "$f" -o "$T/missing/dir/x.olean" 2> "$T/err"; then echo "wrote into a missing dir"; exit 1; fi
[ "$(ls "$T" | wc -l)" -eq 4 ] || { ls "$T"; echo "stray files"; exit 1; }

# Usage errors exit 2.
set +e
"$B/envpool" repack "$f" 2>/dev/null; [ $? -eq 2 ] || { echo "missing -o not a usage error"; exit 1; }
"$B/envpool" repack "$f" -o "$T/y" --order sideways 2>/dev/null; [ $? -eq 2 ] || { echo "bad --order not a usage error"; exit 1; }
set -e
echo "repack: $n samples byte-identical"
