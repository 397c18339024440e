#!/bin/sh
# bench/compare-builds.sh — decl.get throughput of envpoold from two builds,
# alternated, with one neutral client (../shared/bench/loadgen.c):
#
#   bench/compare-builds.sh BUILD_A BUILD_B [ROUNDS]
#
# e.g. `make BUILD=build-h0 HARDEN=0 && make BUILD=build-h1 HARDEN=1` then
# `bench/compare-builds.sh build-h0 build-h1 6` measures what hardening costs.
# Each round starts each build's daemon afresh over the same generated library
# (Lean-shaped, as make bench), warms it, and runs loadgen 50 clients x 16 in
# flight, 300,000 decl.get; an error reply is counted (-V) and fails the run.
# Prints one line per run and each build's median. Only ratios from one run of
# this script mean anything on a shared machine.
set -eu
A=$1 B=$2 ROUNDS=${3:-6}
LOADGEN_SRC=${LOADGEN_SRC:-../shared/bench/loadgen.c}
N=${BENCH_REQUESTS:-300000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/envpool-cmp.XXXXXX")
pid=
finish() {
    st=$?
    set +e
    if [ -n "$pid" ]; then kill "$pid"; wait "$pid"; fi 2>/dev/null
    rm -rf "$tmp"
    exit "$st"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cc -O2 -o "$tmp/loadgen" "$LOADGEN_SRC"
lib=$tmp/lib
"$A/envpool" gen "$lib" --prefix Gen --modules 2300 --decls 87 --fan-in 4 --depth 24 --seed 1
# Names of some constants, one decl.get request each.
find "$lib" -name '*.olean' | sort | awk 'NR % 23 == 1' | head -n 100 |
    xargs "$A/envpool" dump --json |
    python3 -c '
import json, sys
dec = json.JSONDecoder()
text = sys.stdin.read()
i = 0
while i < len(text):
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    d, i = dec.raw_decode(text, i)
    for c in d["constants"]:
        print(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "decl.get",
                          "params": {"imports": ["Gen"], "name": c["name"]}}))
' > "$tmp/req"
echo "compare-builds: $(wc -l < "$tmp/req") distinct decl.get requests, $N per run, 50 x 16"

run() {
    build=$1
    sock=$tmp/s.sock
    "$build/envpoold" --socket "$sock" --search-path "$lib" --capacity 8 --log-level warn --threads 2 &
    pid=$!
    i=0
    while [ ! -S "$sock" ]; do i=$((i + 1)); [ $i -lt 600 ] || exit 1; sleep 0.05; done
    "$build/envpool" open --imports Gen --socket "$sock" > /dev/null # the import, before loadgen
    "$tmp/loadgen" -s "$sock" -c 1 -d 1 -n 2000 -f "$tmp/req" -V > /dev/null # warm
    out=$("$tmp/loadgen" -s "$sock" -c 50 -d 16 -n "$N" -f "$tmp/req" -V)
    kill "$pid"; wait "$pid" || true; pid=
    echo "$out" | grep -q 'error_responses=0$' || { echo "error replies: $out" >&2; exit 1; }
    rps=$(echo "$out" | sed -n 's/.*rps=\([0-9.]*\).*/\1/p')
    echo "$build $rps" >> "$tmp/results"
    echo "  $build: $out"
}
r=1
while [ $r -le "$ROUNDS" ]; do
    if [ $((r % 2)) -eq 1 ]; then run "$A"; run "$B"; else run "$B"; run "$A"; fi
    r=$((r + 1))
done
for build in "$A" "$B"; do
    med=$(awk -v b="$build" '$1 == b { print $2 }' "$tmp/results" | sort -n |
          awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
    echo "compare-builds: $build median $med rps over $ROUNDS runs"
done
