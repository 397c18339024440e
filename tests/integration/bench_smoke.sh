#!/bin/sh
# tests/integration/bench_smoke.sh — `make bench` in small (BENCH_QUICK=1: the
# small shape, one round, few requests) against envpoold, jsond and redis with
# ../shared/bench/loadgen: it completes with every figure a success and writes
# bench.json with the raw runs; and one unknown name among the requests (an
# error reply) makes it exit non-zero with that figure marked failed.
set -eu
BUILD=${ENVPOOL_BUILD:-build}
. "$(dirname "$0")/lib/common.sh"
[ -x "$BUILD/bench/loadgen" ] && [ -x "$BUILD/bench/jsond" ] ||
    skip "../shared/bench (loadgen.c, jsond.c) absent: no bench smoke"
command -v python3 > /dev/null || skip "python3 absent"

BENCH_QUICK=1 BENCH_DIR="$TMP/ok" BUILD="$BUILD" python3 bench/run.py > "$TMP/out" 2> "$TMP/err" ||
    { cat "$TMP/out" "$TMP/err" >&2; echo "bench smoke: exit $?" >&2; exit 1; }
python3 - "$TMP/ok/bench.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert not r["failed"], r["failed"]
s = r["figures"]["servers"]
for key in ("cache", "nocache", "jsond"):
    for load in ("get_1x1", "get_50x1", "get_50x16", "get_hot_50x16"):
        f = s[key][load]
        assert "failed" not in f and f["rps"] > 0 and f["p50_us"] > 0, (key, load, f)
assert s["cache"]["env_open_close_1x1"]["rps"] > 0
runs = [x for x in r["raw"] if "load" in x]
assert runs and all(x["errors"] == 0 for x in runs)
assert r["library"]["names"] == r["library"]["constants"] > 1000, r["library"]
PY

set +e
BENCH_QUICK=1 BENCH_INJECT_ERROR=1 BENCH_DIR="$TMP/ok" BUILD="$BUILD" python3 bench/run.py > "$TMP/out2" 2>&1
rc=$?
set -e
[ "$rc" -ne 0 ] || { cat "$TMP/out2" >&2; echo "an error reply did not fail the bench" >&2; exit 1; }
grep -q "FAILED figures" "$TMP/out2" && grep -q "error replies" "$TMP/out2" ||
    { cat "$TMP/out2" >&2; exit 1; }
echo "bench_smoke: ok"
