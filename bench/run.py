#!/usr/bin/env python3
"""bench/run.py — `make bench`: envpool at Lean scale, with baselines, in one run.

Generates (once, cached under BUILD/bench-lib/) a synthetic library shaped like
`import Lean` (2,300 modules, ~200k constants) or, with BENCH_SCALE=mathlib,
like Mathlib (7,600 modules, ~630k constants); starts envpoold on a temporary
socket; measures cold/warm env.open, decl.get latency and throughput,
decl.search latency, memory; runs the same load against redis-server (if
installed) and the minimal libuv + jansson server of bench/minimal_server.c;
prints a table and writes BUILD/bench.json.

Every load is bounded in requests and seconds and goes only to sockets this
script creates under a temporary directory.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BUILD = os.path.abspath(os.environ.get("BUILD", "build"))
SCALE = os.environ.get("BENCH_SCALE", "lean")
QUICK = os.environ.get("BENCH_QUICK") == "1"   # smaller request counts (CI smoke run)
SHAPES = {
    # modules, decls per module, fan-in, depth
    "lean": (2300, 87, 4, 24),
    "mathlib": (7600, 83, 6, 40),
}
ENVPOOL = os.path.join(BUILD, "envpool")
ENVPOOLD = os.path.join(BUILD, "envpoold")
MINIMAL = os.path.join(BUILD, "bench", "minimal-server")
SAMPLES = os.environ.get("ENVPOOL_SAMPLES", os.path.abspath("../shared/lean-samples"))

results = {"scale": SCALE, "machine": {}, "figures": {}, "baselines": {}, "targets": {}}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run(args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


def machine():
    info = {"cores": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            info["memory_gib"] = round(int(f.readline().split()[1]) / 1048576, 1)
    except OSError:
        pass
    return info


def generate(name, modules, decls, fan_in, depth, prefix="Gen", seed=1):
    out = os.path.join(BUILD, "bench-lib", name)
    stamp = os.path.join(out, ".done")
    want = f"{prefix} {modules} {decls} {fan_in} {depth} {seed}\n"
    if os.path.exists(stamp) and open(stamp).read() == want:
        return out
    shutil.rmtree(out, ignore_errors=True)
    log(f"bench: generating {name}: {modules} modules x {decls} declarations ...")
    t = time.time()
    run([ENVPOOL, "gen", out, "--prefix", prefix, "--modules", str(modules), "--decls", str(decls),
         "--fan-in", str(fan_in), "--depth", str(depth), "--seed", str(seed)])
    log(f"bench: generated in {time.time() - t:.1f} s")
    with open(stamp, "w") as f:
        f.write(want)
    return out


def names_file(lib, prefix, path, limit=20000):
    """Constant names of a generated library, from `envpool dump --json` of some modules."""
    if os.path.exists(path):
        return path
    files = []
    for root, _, fs in os.walk(os.path.join(lib, prefix)):
        files += [os.path.join(root, f) for f in fs if f.endswith(".olean")]
    files.sort()
    names = []
    step = max(1, len(files) // 200)
    for f in files[::step]:
        d = json.loads(run([ENVPOOL, "dump", "--json", f]).stdout)
        names += [c["name"] for c in d["constants"]]
        if len(names) >= limit:
            break
    with open(path, "w") as out:
        for n in names:
            out.write(n + "\n")
    return path


def wait_socket(path, proc, seconds=30):
    end = time.time() + seconds
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            s.close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"no socket at {path}")


class Rpc:
    """One blocking JSON-RPC connection (newline framing)."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(path)
        self.f = self.s.makefile("rwb")
        self.id = 0

    def call(self, method, params=None):
        self.id += 1
        msg = {"jsonrpc": "2.0", "id": self.id, "method": method}
        if params is not None:
            msg["params"] = params
        self.f.write(json.dumps(msg).encode() + b"\n")
        self.f.flush()
        while True:
            reply = json.loads(self.f.readline())
            if reply.get("id") == self.id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def close(self):
        self.f.close()
        self.s.close()


def loadgen(sock, method, names=None, clients=1, depth=1, requests=100000, imports=None, mode=None,
            template=None, seconds=60, redis=False):
    if QUICK:
        requests = min(requests, 5000)
    args = [ENVPOOL, "bench", "--socket", sock, "--clients", str(clients), "--depth", str(depth),
            "--requests", str(requests), "--warmup", str(min(2000, requests // 10)),
            "--seconds", str(seconds), "--json"]
    if redis:
        args += ["--redis"]
    elif template:
        args += ["--method", "raw", "--template", template]
    else:
        args += ["--method", method]
    if names:
        args += ["--names", names]
    if imports:
        args += ["--imports", ",".join(imports)]
    if mode:
        args += ["--mode", mode]
    return json.loads(run(args).stdout)


def proc_memory(pid):
    mem = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("Rss", "Private_Dirty", "Pss"):
                    mem[k.lower()] = int(v.split()[0]) * 1024
    except OSError:
        pass
    return mem


def bench_reader(fig):
    samples = []
    for root, _, fs in os.walk(SAMPLES):
        samples += [os.path.join(root, f) for f in fs if f.endswith(".olean")]
    if not samples:
        return
    out = run([os.path.join(BUILD, "bench", "bench_region"), "--seconds", "1" if QUICK else "3"]
              + sorted(samples)).stdout
    for line in out.splitlines():
        mbs = float(line.split("MB/s")[0].split()[-1])
        fig["validate_decode_mb_s" if "+ decode" in line else "validation_mb_s"] = mbs


def warm_page_cache(*dirs):
    """Reads every file once: "cold" opens are measured with the page cache warm
    (this VM reclaims idle page cache quickly, so a file generated minutes ago
    may have to come from disk again)."""
    for d in dirs:
        for root, _, fs in os.walk(d):
            for f in fs:
                with open(os.path.join(root, f), "rb") as fh:
                    while fh.read(1 << 20):
                        pass


def bench_pool_figures(lib, fig):
    """In-process figures of the pool (tests/bench/bench_pool.c) on the same library."""
    # bench_pool also measures a second environment from its own library (module
    # Alt), which ours lacks: it says so and exits 1 after printing the rest.
    out = subprocess.run([os.path.join(BUILD, "bench", "bench_pool"), "--dir", lib, "--rounds", "3"],
                         capture_output=True, text=True, timeout=600).stdout
    for line in out.splitlines():
        if line.startswith("name index:"):
            fig["index_bytes_per_constant"] = float(line.split()[2])
        elif line.startswith("name lookup:"):
            m = re.search(r"(\d+) ns per hit over all names.*?, (\d+) ns per hit over [\d,]+ neighbouring", line)
            if m:
                fig["lookup_random_ns"], fig["lookup_neighbour_ns"] = float(m.group(1)), float(m.group(2))
        elif line.startswith("warm acquire+release"):
            fig["acquire_release_ns"] = float(line.split(":")[1].split()[0])
        elif line.startswith("cold build"):
            fig["cold_build_in_process_ms"] = float(line.split("median")[1].split()[0])


def bench_envpoold(tmp, lib, lib2, fig):
    sock = os.path.join(tmp, "envpool.sock")
    warm_page_cache(lib, lib2)
    roots = f"{lib}:{lib2}"
    d = subprocess.Popen([ENVPOOLD, "--socket", sock, "--search-path", roots, "--capacity", "8",
                          "--log-level", "warn", "--threads", "2"], stderr=subprocess.PIPE, text=True)
    try:
        wait_socket(sock, d)
        c = Rpc(sock)
        t = time.time()
        r = c.call("env.open", {"imports": ["Gen"]})
        fig["cold_open_ms"] = round((time.time() - t) * 1000, 1)
        fig["cold_open_load_ms"] = r.get("load_ms")
        fig["modules"] = r.get("modules")
        fig["constants"] = r.get("constants")
        stats = c.call("pool.stats")
        pool = stats.get("pool", stats)
        mapped1 = pool.get("mapped_bytes")
        r2 = c.call("env.open", {"imports": ["Gen", "Gen2"]})
        stats = c.call("pool.stats")
        pool = stats.get("pool", stats)
        mapped2 = pool.get("mapped_bytes")
        fig["second_env_open_ms"] = r2.get("load_ms")
        if mapped1 and mapped2:
            fig["mapped_bytes"] = mapped1
            fig["second_env_extra_mapped_pct"] = round(100.0 * (mapped2 - mapped1) / mapped1, 2)
        c.close()

        names = names_file(lib, "Gen", os.path.join(BUILD, "bench-lib", "lean-names.txt")
                           if SCALE == "lean" else os.path.join(BUILD, "bench-lib", "mathlib-names.txt"))
        imports = ["Gen"]
        fig["env_open_warm"] = loadgen(sock, "env.open", imports=imports, requests=20000)
        fig["decl_get_1x1"] = loadgen(sock, "decl.get", names, 1, 1, 100000, imports)
        fig["decl_get_50x1"] = loadgen(sock, "decl.get", names, 50, 1, 200000, imports)
        fig["decl_get_50x16"] = loadgen(sock, "decl.get", names, 50, 16, 1000000, imports)
        for mode in ("prefix", "substring", "fuzzy"):
            q = os.path.join(tmp, f"queries-{mode}.txt")
            with open(names) as f, open(q, "w") as out:
                for i, n in enumerate(f):
                    n = n.strip()
                    if i % 50 == 0 and n:
                        part = n.rsplit(".", 1)[0] if mode == "prefix" else n.rsplit(".", 1)[-1]
                        out.write((part if mode != "fuzzy" else part[:6]) + "\n")
            fig[f"decl_search_{mode}"] = loadgen(sock, "decl.search", q, 1, 1, 2000, imports, mode=mode)
        fig["daemon_memory"] = proc_memory(d.pid)
    finally:
        d.send_signal(signal.SIGTERM)
        try:
            d.wait(30)
        except subprocess.TimeoutExpired:
            d.kill()


def bench_redis(tmp, base, names):
    if not shutil.which("redis-server") or not shutil.which("redis-benchmark"):
        log("bench: redis-server not installed; skipping that baseline")
        return
    sock = os.path.join(tmp, "redis.sock")
    r = subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", sock, "--save", "",
                          "--appendonly", "no", "--daemonize", "no", "--dir", tmp],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_socket(sock, r)
        # The same client as for envpoold (envpool bench --redis: GET by the
        # inline protocol), so that the ratio compares servers, not clients...
        out = {
            "get_1x1": loadgen(sock, None, names, 1, 1, 100000, template=None, redis=True),
            "get_50x16": loadgen(sock, None, names, 50, 16, 1000000, template=None, redis=True),
        }
        # ...and redis's own client, for reference.
        n = 20000 if QUICK else 200000
        for label, c, p in (("get_1x1", 1, 1), ("get_50x16", 50, 16)):
            csv = run(["redis-benchmark", "-s", sock, "-t", "set,get", "-n", str(n), "-c", str(c),
                       "-P", str(p), "--csv"]).stdout
            for line in csv.splitlines():
                cols = [x.strip('"') for x in line.split(",")]
                if cols[0] == "GET":
                    out["redis_benchmark_" + label] = {"rps": float(cols[1]), "p50_us": float(cols[4]) * 1000,
                                  "p99_us": float(cols[6]) * 1000}
        base["redis"] = out
    finally:
        r.terminate()
        r.wait(10)


def bench_minimal(tmp, base, names):
    sock = os.path.join(tmp, "minimal.sock")
    table = os.path.join(tmp, "minimal-names.tsv")
    with open(names) as f, open(table, "w") as out:
        for n in f:
            out.write(n.strip() + "\tGen.T → Gen.T\n")
    m = subprocess.Popen([MINIMAL, sock, table])
    try:
        wait_socket(sock, m)
        tmpl = '{"jsonrpc":"2.0","id":{id},"method":"decl.get","params":{"name":"{name}"}}'
        base["minimal"] = {
            "get_1x1": loadgen(sock, None, names, 1, 1, 100000, template=tmpl),
            "get_50x16": loadgen(sock, None, names, 50, 16, 1000000, template=tmpl),
        }
    finally:
        m.send_signal(signal.SIGINT)
        m.wait(10)


def ratio(a, b):
    return round(a / b, 2) if a and b else None


def main():
    results["machine"] = machine()
    modules, decls, fan_in, depth = SHAPES[SCALE]
    lib = generate(SCALE, modules, decls, fan_in, depth)
    # The second key's extra 5%: another library imported next to the first.
    lib2 = generate(SCALE + "-extra", max(1, modules // 20), decls, fan_in, 4, prefix="Gen2", seed=2)
    fig, base = results["figures"], results["baselines"]
    bench_reader(fig)
    warm_page_cache(lib)
    bench_pool_figures(lib, fig)
    with tempfile.TemporaryDirectory(prefix="envpool-bench-") as tmp:
        bench_envpoold(tmp, lib, lib2, fig)
        names = names_file(lib, "Gen", os.path.join(BUILD, "bench-lib", f"{SCALE}-names.txt"))
        bench_redis(tmp, base, names)
        bench_minimal(tmp, base, names)

    t = results["targets"]
    g = fig.get("decl_get_50x16", {}).get("rps")
    t["decl_get_50x16_rps>=300k"] = g is not None and g >= 300000
    t["decl_get_50x16_vs_minimal>=1.0"] = ratio(g, base.get("minimal", {}).get("get_50x16", {}).get("rps"))
    t["decl_get_1x1_p50_vs_redis<=1.1"] = ratio(fig.get("decl_get_1x1", {}).get("p50_us"),
                                                base.get("redis", {}).get("get_1x1", {}).get("p50_us"))
    t["warm_open_p50_vs_get_p50<=1.2"] = ratio(fig.get("env_open_warm", {}).get("p50_us"),
                                               fig.get("decl_get_1x1", {}).get("p50_us"))
    t["cold_open_ms"] = fig.get("cold_open_ms")
    t["index_bytes_per_constant<=48"] = fig.get("index_bytes_per_constant")
    t["second_env_extra_mapped_pct<=5"] = fig.get("second_env_extra_mapped_pct")
    t["validation_mb_s>=1000"] = fig.get("validation_mb_s")

    with open(os.path.join(BUILD, "bench.json"), "w") as f:
        json.dump(results, f, indent=2)
    print_table()


def print_table():
    fig, base, m = results["figures"], results["baselines"], results["machine"]
    print(f"\nenvpool bench — {SCALE} shape: {fig.get('modules')} modules, {fig.get('constants')} constants")
    print(f"machine: {m.get('cpu', '?')}, {m.get('cores')} cores, {m.get('memory_gib')} GiB\n")
    rows = [
        ("cold env.open (first in process)", f"{fig.get('cold_open_ms')} ms"),
        ("env.open of a second key (95% shared)", f"{fig.get('second_env_open_ms')} ms, "
         f"+{fig.get('second_env_extra_mapped_pct')}% mapped"),
    ]

    def lat(k, d):
        x = d.get(k)
        if not x:
            return "-"
        return (f"p50 {x['p50_us']:.1f} us  p99 {x['p99_us']:.1f} us  "
                + (f"p99.9 {x['p999_us']:.1f} us  " if "p999_us" in x else "")
                + f"{x['rps']:,.0f} req/s")

    rows += [
        ("warm env.open (pool hit), 1x1", lat("env_open_warm", fig)),
        ("decl.get 1 client x 1", lat("decl_get_1x1", fig)),
        ("decl.get 50 clients x 1", lat("decl_get_50x1", fig)),
        ("decl.get 50 clients x 16 pipelined", lat("decl_get_50x16", fig)),
        ("decl.search prefix", lat("decl_search_prefix", fig)),
        ("decl.search substring", lat("decl_search_substring", fig)),
        ("decl.search fuzzy", lat("decl_search_fuzzy", fig)),
        ("redis GET 1x1 (baseline, same client)", lat("get_1x1", base.get("redis", {}))),
        ("redis GET 50x16 (baseline, same client)", lat("get_50x16", base.get("redis", {}))),
        ("redis GET 1x1 (redis-benchmark)", lat("redis_benchmark_get_1x1", base.get("redis", {}))),
        ("redis GET 50x16 (redis-benchmark)", lat("redis_benchmark_get_50x16", base.get("redis", {}))),
        ("minimal libuv+jansson 1x1 (baseline)", lat("get_1x1", base.get("minimal", {}))),
        ("minimal libuv+jansson 50x16 (baseline)", lat("get_50x16", base.get("minimal", {}))),
        ("validation (samples, 1 core)", f"{fig.get('validation_mb_s')} MB/s"),
        ("validation + decode (samples, 1 core)", f"{fig.get('validate_decode_mb_s')} MB/s"),
        ("daemon memory", ", ".join(f"{k} {v / 1048576:.1f} MiB" for k, v in fig.get("daemon_memory", {}).items())),
        ("mapped bytes / index bytes per constant",
         f"{(fig.get('mapped_bytes') or 0) / 1048576:.1f} MiB / {fig.get('index_bytes_per_constant')} B"),
        ("in process: cold build / acquire+release",
         f"{fig.get('cold_build_in_process_ms')} ms / {fig.get('acquire_release_ns')} ns"),
        ("in process: name lookup, random / neighbouring",
         f"{fig.get('lookup_random_ns')} ns / {fig.get('lookup_neighbour_ns')} ns"),
    ]
    w = max(len(r[0]) for r in rows)
    for k, v in rows:
        print(f"  {k:<{w}}  {v}")
    print("\ntargets:")
    for k, v in results["targets"].items():
        print(f"  {k:<36} {v}")
    print(f"\nwritten: {os.path.join(BUILD, 'bench.json')}")


if __name__ == "__main__":
    main()
