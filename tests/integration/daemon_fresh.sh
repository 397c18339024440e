#!/bin/sh
# Event-driven freshness against the real daemon (issue 9): the zero-delay
# rebuild loops (rename, in-place rewrite, delete + recreate; no stale answer
# in any round; ENVPOOL_FRESH_ROUNDS each, 200 by default — `make stress` runs
# 10,000 through tests/stress/fresh.sh), a rename over a module another client holds, truncation while
# mapped (closed, and held), a directory removed and recreated, the watch
# limit forced low (--max-watches 1: the fallback is counted, logged once and
# left to the scan) and no watching at all (faults still mark at once).
. "$(dirname "$0")/lib/daemon.sh"

E=$BUILD/envpool
ROUNDS=${ENVPOOL_FRESH_ROUNDS:-200}
# A memory file system when there is one: ext4 flushes data on every rename over a file.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    LIBDIR=$(mktemp -d /dev/shm/envpool-fresh.XXXXXX)
else
    LIBDIR=$TMP/lib
    mkdir -p "$LIBDIR"
fi
test_cleanup() { rm -rf "$LIBDIR"; }
mkdir -p "$TMP/src" "$TMP/va" "$TMP/vb" "$LIBDIR/Sub" "$LIBDIR/Other"

printf 'module R\naxiom R.va : Prop\n' >"$TMP/src/Ra.txt"
printf 'module R\naxiom R.vb : Prop\n' >"$TMP/src/Rb.txt"
printf 'module Sub.M\naxiom Sub.M.va : Prop\n' >"$TMP/src/Sa.txt"
printf 'module Sub.M\naxiom Sub.M.vb : Prop\n' >"$TMP/src/Sb.txt"
printf 'module Other.N\naxiom Other.N.va : Prop\n' >"$TMP/src/Oa.txt"
printf 'module Other.N\naxiom Other.N.vb : Prop\n' >"$TMP/src/Ob.txt"
"$E" pack "$TMP/src/Ra.txt" "$TMP/src/Sa.txt" "$TMP/src/Oa.txt" -o "$TMP/va" 2>/dev/null || fail "pack a"
"$E" pack "$TMP/src/Rb.txt" "$TMP/src/Sb.txt" "$TMP/src/Ob.txt" -o "$TMP/vb" 2>/dev/null || fail "pack b"
cp "$TMP/va/R.olean" "$LIBDIR/R.olean"
cp "$TMP/va/Sub/M.olean" "$LIBDIR/Sub/M.olean"
cp "$TMP/va/Other/N.olean" "$LIBDIR/Other/N.olean"
# A module big enough to span several pages, for truncation under a mapping.
"$E" gen "$LIBDIR" --prefix Big --modules 1 --depth 1 --decls 400 >/dev/null 2>&1 || fail "gen"

# check_metrics PORT: /metrics (HTTP) shows the freshness counters with pool.stats' values.
check_metrics() {
    py - "$SOCK" "$1" <<'PY' || fail "/metrics"
import sys
from rpc import metrics, stats
path, port = sys.argv[1], int(sys.argv[2])
p = stats(path)["pool"]
m = metrics(port)
for key, name in (("watches", "envpool_pool_watches"), ("watch_events", "envpool_pool_watch_events_total"),
                  ("watch_fallbacks", "envpool_pool_watch_fallbacks_total"),
                  ("watch_overflows", "envpool_pool_watch_overflows_total"),
                  ("stale_marks_event", "envpool_pool_stale_marks_event_total"),
                  ("stale_marks_scan", "envpool_pool_stale_marks_scan_total"),
                  ("stale_marks_fault", "envpool_pool_stale_marks_fault_total"),
                  ("stale_in_use", "envpool_pool_stale_in_use_total"), ("stale_held", "envpool_pool_stale_held"),
                  ("evicted_stale", "envpool_pool_evicted_stale_total")):
    assert name in m, (name, sorted(m)[:20])
    # Read after pool.stats: a counter is never less (late events of directories
    # whose last mapping a worker unmaps meanwhile may add to it); the gauges can move.
    assert name.endswith("_total") is False or m[name] >= p[key], (name, m[name], key, p[key])
print("metrics: watches=%d events=%d fallbacks=%d marks event/scan/fault=%d/%d/%d" % (
    m["envpool_pool_watches"], m["envpool_pool_watch_events_total"], m["envpool_pool_watch_fallbacks_total"],
    m["envpool_pool_stale_marks_event_total"], m["envpool_pool_stale_marks_scan_total"],
    m["envpool_pool_stale_marks_fault_total"]))
PY
}

start_daemon --search-path "$LIBDIR" --http-listen 127.0.0.1:0
PORT=$(http_port)
# Bounded: 120 s plus 50 ms a round (a loaded machine does ~200 rounds/s or more).
for mode in rename inplace recreate held cached; do
    timeout $((120 + ROUNDS / 20)) python3 "$LIB/fresh_loop.py" "$SOCK" "$LIBDIR" "$TMP/va/R.olean" "$TMP/vb/R.olean" \
        "$mode" "$ROUNDS" || fail "zero-delay loop ($mode)"
done

py - "$SOCK" "$LIBDIR" "$TMP/va" "$TMP/vb" <<'PY' || fail "freshness"
import os, shutil, sys
from rpc import Conn, error_code, stats
path, libdir, va, vb = sys.argv[1:5]

def snap():
    p = stats(path)["pool"]
    assert p["acquired"] == p["imports_performed"] + p["reused"], p
    assert p["releases"] == p["released_to_pool"] + p["released_dropped"], p
    assert p["resident"] == p["idle"] + p["in_use"], p
    return p

def put(src, dst):
    tmp = dst + ".tmp"
    shutil.copyfile(src, tmp)
    os.rename(tmp, dst)

a, b = Conn(path), Conn(path)

# Rename over a module that another client holds: the key goes to a fresh
# import at once, the holder keeps answering from what it mapped.
put(os.path.join(va, "R.olean"), os.path.join(libdir, "R.olean"))
ha = a.call("env.open", {"imports": ["R"]})["result"]["env"]
assert a.call("decl.get", {"env": ha, "name": "R.va"})["result"]
p0 = snap()
put(os.path.join(vb, "R.olean"), os.path.join(libdir, "R.olean"))
r = b.call("env.open", {"imports": ["R"]})["result"]
assert r["hit"] is False, r
assert b.call("decl.get", {"env": r["env"], "name": "R.vb"})["result"]
assert error_code(b.call("decl.get", {"env": r["env"], "name": "R.va"})) == -32004
assert a.call("decl.get", {"env": ha, "name": "R.va"})["result"]["name"] == "R.va"
p = snap()
assert p["stale_in_use"] == p0["stale_in_use"] + 1, (p0, p)
assert p["stale_held"] == 1 and p["stale_marks_event"] > p0["stale_marks_event"], p
# The key is the fresh environment now: a third open hits it.
r2 = b.call("env.open", {"imports": ["R"]})["result"]
assert r2["hit"] is True, r2
b.call("env.close", {"env": r2["env"]})
kept = a.call("env.close", {"env": ha})["result"]["kept"]
assert kept is False
p = snap()
assert p["stale_held"] == 0 and p["released_dropped"] >= p0["released_dropped"] + 1, p
b.call("env.close", {"env": r["env"]})

# Truncation while mapped and closed: the next open is not a hit on the broken environment.
big = os.path.join(libdir, "Big", "L0", "M0.olean")
saved = open(big, "rb").read()
h = a.call("env.open", {"imports": ["Big.L0.M0"]})["result"]["env"]
name = a.call("decl.search", {"env": h, "query": "Big.L0.M0", "limit": 1})["result"]["items"][0]["name"]
assert a.call("decl.get", {"env": h, "name": name})["result"]
a.call("env.close", {"env": h})
os.truncate(big, len(saved) // 2)
m = a.call("env.open", {"imports": ["Big.L0.M0"]})
assert error_code(m) in (-32002, -32007), m   # the half file is refused, never the old environment
with open(big, "r+b") as f:
    f.write(saved)
r = a.call("env.open", {"imports": ["Big.L0.M0"]})["result"]
assert r["hit"] is False, r
assert a.call("decl.get", {"env": r["env"], "name": name})["result"]

# Truncation while held: the holder gets -32007, another client a fresh import.
os.truncate(big, 0)
assert error_code(a.call("decl.get", {"env": r["env"], "name": name, "value": True})) == -32007
with open(big, "r+b") as f:
    f.write(saved)
r3 = b.call("env.open", {"imports": ["Big.L0.M0"]})["result"]
assert r3["hit"] is False, r3
assert b.call("decl.get", {"env": r3["env"], "name": name})["result"]
a.call("env.close", {"env": r["env"]})
b.call("env.close", {"env": r3["env"]})

# A directory removed and recreated, again and again, with no delay.
sub = os.path.join(libdir, "Sub")
for i in range(20):
    v, old, new = (vb, "Sub.M.va", "Sub.M.vb") if i % 2 == 0 else (va, "Sub.M.vb", "Sub.M.va")
    h = a.call("env.open", {"imports": ["Sub.M"]})["result"]["env"]
    assert a.call("decl.get", {"env": h, "name": old})["result"], i
    a.call("env.close", {"env": h})
    shutil.rmtree(sub)
    os.mkdir(sub)
    shutil.copyfile(os.path.join(v, "Sub", "M.olean"), os.path.join(sub, "M.olean"))
    r = a.call("env.open", {"imports": ["Sub.M"]})["result"]
    assert r["hit"] is False, (i, r)
    assert a.call("decl.get", {"env": r["env"], "name": new})["result"], i
    a.call("env.close", {"env": r["env"]})
p = snap()
# Old directories' watches go with their last module: the gauge stays small.
assert p["watches"] <= 4, p
assert p["watch_fallbacks"] == 0 and p["watch_overflows"] == 0, p
assert p["stale_marks_event"] >= 20, p
a.close()
b.close()
print("freshness: stale_in_use=%d evicted_stale=%d marks event/scan/fault=%d/%d/%d watches=%d events=%d" %
      (p["stale_in_use"], p["evicted_stale"], p["stale_marks_event"], p["stale_marks_scan"],
       p["stale_marks_fault"], p["watches"], p["watch_events"]))
PY
# Prometheus shows the same counters.
py - "$SOCK" <<'PY' || fail "prometheus"
import sys
from rpc import Conn
c = Conn(sys.argv[1])
text = c.call("pool.stats", {"format": "prometheus"})["result"]["text"]
for name in ("envpool_pool_watches ", "envpool_pool_watch_events_total ", "envpool_pool_watch_fallbacks_total ",
             "envpool_pool_stale_marks_event_total ", "envpool_pool_stale_marks_scan_total ",
             "envpool_pool_stale_marks_fault_total ", "envpool_pool_stale_in_use_total ",
             "envpool_pool_stale_held ", "envpool_pool_imports_restarted_total "):
    assert name in text, name
PY
check_metrics "$PORT"
stop_daemon 0

# The watch limit forced low: R's directory is watched, Sub's falls back to the scan.
start_daemon --search-path "$LIBDIR" --max-watches 1 --http-listen 127.0.0.1:0
PORT=$(http_port)
py - "$SOCK" "$LIBDIR" "$TMP/va" "$TMP/vb" <<'PY' || fail "watch limit"
import os, shutil, sys, time
from rpc import Conn, error_code, stats
path, libdir, va, vb = sys.argv[1:5]
c = Conn(path)
def put(src, dst):
    shutil.copyfile(src, dst + ".tmp")
    os.rename(dst + ".tmp", dst)
for v in (va,):
    put(os.path.join(v, "R.olean"), os.path.join(libdir, "R.olean"))
    put(os.path.join(v, "Other", "N.olean"), os.path.join(libdir, "Other", "N.olean"))
h1 = c.call("env.open", {"imports": ["R"]})["result"]["env"]
h2 = c.call("env.open", {"imports": ["Other.N"]})["result"]["env"]
c.call("env.close", {"env": h1})
c.call("env.close", {"env": h2})
p = stats(path)["pool"]
assert p["watches"] == 1 and p["watch_fallbacks"] == 1, p
# The watched directory: seen at once.
put(os.path.join(vb, "R.olean"), os.path.join(libdir, "R.olean"))
assert c.call("decl.get", {"imports": ["R"], "name": "R.vb"})["result"]
# The fallback directory: seen by the scan, within a few seconds.
put(os.path.join(vb, "Other", "N.olean"), os.path.join(libdir, "Other", "N.olean"))
deadline = time.time() + 20
while "result" not in c.call("decl.get", {"imports": ["Other.N"], "name": "Other.N.vb"}):
    assert time.time() < deadline, "the scan never saw the change"
    time.sleep(0.05)
p = stats(path)["pool"]
# Each time the directory is needed afresh (its old module went) it fails again: counted again.
assert p["stale_marks_scan"] >= 1 and p["watch_fallbacks"] >= 2 and p["watches"] == 1, p
c.close()
PY
check_metrics "$PORT"
stop_daemon 0
n=$(grep -c "could not be watched" "$TMP/daemon.log")
[ "$n" = 1 ] || fail "the watch fallback was logged $n times, expected once"
grep -q "inotify watch limit" "$TMP/daemon.log" || fail "the fallback log line does not name the limit"

# No watching: a fault marks the module at once (not at the next scan).
start_daemon --search-path "$LIBDIR" --max-watches 0 --http-listen 127.0.0.1:0
PORT=$(http_port)
py - "$SOCK" "$LIBDIR" <<'PY' || fail "faults"
import os, sys
from rpc import Conn, error_code, stats
path, libdir = sys.argv[1:3]
a, b = Conn(path), Conn(path)
big = os.path.join(libdir, "Big", "L0", "M0.olean")
saved = open(big, "rb").read()
h = a.call("env.open", {"imports": ["Big.L0.M0"]})["result"]["env"]
name = a.call("decl.search", {"env": h, "query": "Big.L0.M0", "limit": 1})["result"]["items"][0]["name"]
p0 = stats(path)["pool"]
assert p0["watches"] == 0, p0
os.truncate(big, 0)
assert error_code(a.call("decl.get", {"env": h, "name": name, "value": True})) == -32007
with open(big, "r+b") as f:
    f.write(saved)
r = b.call("env.open", {"imports": ["Big.L0.M0"]})["result"]
assert r["hit"] is False, r
p = stats(path)["pool"]
# The fault marked it, unless the 1 s scan happened to come first.
assert p["stale_marks_fault"] + p["stale_marks_scan"] >= 1 and p["stale_in_use"] == 1, p
assert b.call("decl.get", {"env": r["env"], "name": name})["result"]
a.close()
b.close()
PY
check_metrics "$PORT"
stop_daemon 0
grep -q "uv_loop_close" "$TMP/daemon.log" && fail "a libuv handle was left open"
exit 0
