#!/bin/sh
# Environment handles over a real socket: numbers are issued 1, 2, 3... and
# never reused on a connection; every open handle answers, every closed one is
# -32005, however many have been opened and closed around them; the daemon's
# memory for handles follows the open ones (an open/close loop of 20,000 does
# not grow it: checked by the handle numbers still working, and by the leak check).
. "$(dirname "$0")/lib/daemon.sh"

LIBDIR=$TMP/lib
mkdir -p "$LIBDIR"
ls "$BUILD/examples/Demo/"*.olean >/dev/null 2>&1 || fail "build/examples is missing (run make)"
cp -r "$BUILD/examples/Demo" "$LIBDIR/"

start_daemon --search-path "$LIBDIR"
py - "$SOCK" <<'PY' || fail "handles"
import random, sys
from rpc import Conn, error_code
c = Conn(sys.argv[1])
rng = random.Random(7)
open_, closed, issued = set(), set(), 0
def op(method, params):
    return c.call(method, params)

for step in range(3000):
    if not open_ or (len(open_) < 200 and rng.random() < 0.55):
        m = op("env.open", {"imports": ["Demo.Main"]})
        h = m["result"]["env"]
        issued += 1
        assert h == issued, (h, issued)          # 1, 2, 3... never reused
        open_.add(h)
    else:
        h = rng.choice(sorted(open_))
        assert op("env.close", {"env": h})["result"]["kept"] is True
        open_.discard(h)
        closed.add(h)
    if step % 50 == 0:
        for h in rng.sample(sorted(open_), min(5, len(open_))):
            assert op("decl.get", {"env": h, "name": "Nat.add"})["result"]["name"] == "Nat.add"
        for h in rng.sample(sorted(closed), min(5, len(closed))):
            assert error_code(op("decl.get", {"env": h, "name": "Nat.add"})) == -32005
# A long open/close loop next to one handle held all along.
keep = op("env.open", {"imports": ["Demo.Main"]})["result"]["env"]
for i in range(20000):
    h = op("env.open", {"imports": ["Demo.Main"]})["result"]["env"]
    assert h == keep + 1 + i, (h, keep, i)
    assert op("env.close", {"env": h})["result"]["kept"] is True
assert op("decl.get", {"env": keep, "name": "Nat.add"})["result"]["name"] == "Nat.add"
assert error_code(op("decl.get", {"env": keep + 20000, "name": "Nat.add"})) == -32005
c.close()
PY
stop_daemon
echo "handles: issued in order, never reused, open ones answer, closed ones are -32005"
