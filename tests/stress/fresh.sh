#!/bin/sh
# tests/stress/fresh.sh — issue 9's zero-delay rebuild loops at full count
# against the real daemon: ENVPOOL_FRESH_ROUNDS rounds (default 10,000) of each
# of rename over, in-place rewrite (truncate + write, same inode), delete +
# recreate, and rename over while another connection holds the environment
# (it keeps its answers; the key goes to a fresh import), and in-place rewrite
# answered through the fast path (cached: decl.get with imports only), each
# round replacing the module with a version that has a new
# declaration and at once opening it and asking for that name (pipelined
# client: tests/integration/lib/fresh_loop.py). Any stale answer fails. The
# rest of tests/integration/daemon_fresh.sh (rename over a held module,
# truncation, directories removed and recreated, the watch limit, faults)
# runs once around the loops; `make check` runs the same script with 200
# rounds. Prints each loop's line: rounds, stale answers, wall time, marks.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
rounds=${ENVPOOL_FRESH_ROUNDS:-10000}
log=$(mktemp "${TMPDIR:-/tmp}/envpool-stress-fresh.XXXXXX")
t0=$(date +%s)
ENVPOOL_FRESH_ROUNDS=$rounds sh "$here/integration/daemon_fresh.sh" >"$log" 2>&1 </dev/null
st=$?
grep -E "^(rename|inplace|recreate|held|cached|freshness):" "$log"
[ "$st" -eq 0 ] || tail -n 40 "$log"
rm -f "$log"
echo "stress/fresh: $rounds rounds x 5 modes, $(($(date +%s) - t0)) s, exit status $st"
[ "$st" -eq 0 ]
