#!/bin/sh
# GET /metrics: the series a scrape needs (a real histogram, the pool gauges,
# build info), accepted by `promtool check metrics`, and scraped by a real
# Prometheus server on loopback (temporary storage, free ports) whose stored
# envpool_pool_acquired_total equals what the daemon reports.
. "$(dirname "$0")/lib/daemon.sh"
command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 ||
    skip "prometheus/promtool not installed (apt-get install prometheus)"


start_daemon --search-path "$BUILD/examples" --http-listen 127.0.0.1:0
PORT=$(http_port)

# ---- /metrics through promtool ------------------------------------------------
py - "$SOCK" "$PORT" "$TMP/metrics.txt" <<'PY' || fail "metrics"
import sys, urllib.request
from rpc import Conn
path, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
c = Conn(path)
for i in range(3):
    r = c.call("env.open", {"imports": ["Demo.Main"]})
    assert "result" in r, r
    c.call("decl.get", {"env": r["result"]["env"], "name": "Nat.add"})
c.call("decl.get", {"imports": ["Demo.Main"], "name": "No.Such"})
c.close()
with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as resp:
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8", resp.headers
    text = resp.read().decode()
open(out, "w").write(text)
lines = text.splitlines()
assert 'envpool_build_info{version="' in text
def value(series):
    hits = [l for l in lines if l.split(" ")[0] == series]
    assert len(hits) == 1, (series, hits)
    return float(hits[0].split(" ")[1])
assert value("envpool_pool_acquired_total") >= 4
for g in ("envpool_pool_resident", "envpool_pool_idle", "envpool_pool_in_use", "envpool_pool_mapped_bytes"):
    value(g)
assert value("envpool_pool_mapped_bytes") > 0
# A real histogram: cumulative buckets ending in +Inf == _count.
b = [l for l in lines if l.startswith('envpool_request_duration_seconds_bucket{method="env.open"')]
assert len(b) >= 2 and b[-1].split("le=")[1].startswith('"+Inf"'), b
counts = [float(l.split(" ")[1]) for l in b]
assert counts == sorted(counts) and counts[-1] == 3, counts
assert value('envpool_request_duration_seconds_count{method="env.open"}') == 3
value('envpool_request_duration_seconds_sum{method="env.open"}')
assert value('envpool_request_errors_total{method="decl.get"}') == 1
PY
promtool check metrics <"$TMP/metrics.txt" >"$TMP/promtool.out" 2>&1 || { cat "$TMP/promtool.out"; fail "promtool check metrics"; }
[ -s "$TMP/promtool.out" ] && { cat "$TMP/promtool.out"; fail "promtool has remarks"; }

# ---- a real Prometheus scrapes it -----------------------------------------------
py - "$SOCK" "$PORT" "$TMP" <<'PY' || fail "prometheus scrape"
import json, os, socket, subprocess, sys, time, urllib.parse, urllib.request
from rpc import stats
path, port, tmp = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p

cfg = os.path.join(tmp, "prometheus.yml")
with open(cfg, "w") as f:
    f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n"
            "  - job_name: envpool\n    static_configs:\n      - targets: ['127.0.0.1:%d']\n" % port)
proc = None
for attempt in range(3):
    pport = free_port()
    log = open(os.path.join(tmp, "prometheus.log"), "w")
    proc = subprocess.Popen(["prometheus", "--config.file=" + cfg, "--storage.tsdb.path=" + os.path.join(tmp, "tsdb%d" % attempt),
                             "--web.listen-address=127.0.0.1:%d" % pport, "--log.level=warn"],
                            stdout=log, stderr=subprocess.STDOUT)
    base = "http://127.0.0.1:%d" % pport
    up = False
    for _ in range(300):
        if proc.poll() is not None:
            break
        try:
            with urllib.request.urlopen(base + "/-/ready", timeout=2) as r:
                up = r.status == 200
        except OSError:
            pass
        if up:
            break
        time.sleep(0.1)
    if up:
        break
    proc.kill(); proc.wait(); proc = None
assert proc, "prometheus did not start: " + open(os.path.join(tmp, "prometheus.log")).read()[-2000:]
try:
    want = stats(path)["pool"]["acquired"]
    got = None
    deadline = time.time() + 60
    while time.time() < deadline:
        q = urllib.parse.urlencode({"query": 'envpool_pool_acquired_total{job="envpool"}'})
        with urllib.request.urlopen(base + "/api/v1/query?" + q, timeout=5) as r:
            res = json.load(r)
        assert res["status"] == "success", res
        vals = res["data"]["result"]
        if vals:
            got = float(vals[0]["value"][1])
            if got == want:
                break
        time.sleep(0.5)
    assert got == want, "prometheus has %r, envpoold has %r" % (got, want)
    # The histogram arrived as one: Prometheus computes a quantile from its buckets.
    q = urllib.parse.urlencode({"query": 'histogram_quantile(0.5, envpool_request_duration_seconds_bucket{method="env.open"})'})
    with urllib.request.urlopen(base + "/api/v1/query?" + q, timeout=5) as r:
        res = json.load(r)
    assert res["status"] == "success" and res["data"]["result"], res
    q = urllib.parse.urlencode({"query": 'up{job="envpool"}'})
    with urllib.request.urlopen(base + "/api/v1/query?" + q, timeout=5) as r:
        assert json.load(r)["data"]["result"][0]["value"][1] == "1"
    print("prometheus scraped envpool_pool_acquired_total = %d, envpoold says %d" % (got, want))
finally:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill(); proc.wait()
PY

stop_daemon
echo "http_prometheus: ok"
