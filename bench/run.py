#!/usr/bin/env python3
"""bench/run.py — `make bench`: envpoold against two independent baselines,
driven by an independent client (docs/bench.md explains the method).

- Library: `envpool gen --shape SHAPE` (BENCH_SCALE=lean|mathlib|small, default
  lean), generated once and cached under BENCH_DIR/bench-lib/SHAPE (BENCH_DIR
  defaults to BUILD).
- Client: ../shared/bench/loadgen.c (built by make as BUILD/bench/loadgen), a
  closed-loop epoll client envpool did not write; `-V` counts error replies.
- Servers, all started once and measured in turn (alternating: each round runs
  every load against every server before the next round): envpoold with its
  reply cache (warmed by one pass over the requests first), envpoold with
  `--reply-cache 0`, jsond (../shared/bench/jsond.c, a bare libuv + jansson
  lookup server, holding as many keys as the library has constants) and
  redis-server (if installed; GET of keys that exist).
- Requests: decl.get of names drawn uniformly (with replacement, seeded) from
  every constant of the library, and a hot-set variant (1,000 names); the
  baselines get keys drawn the same way from their tables. Warm env.open is
  measured as open + close pairs on one connection, so every reply is a
  success.
- BENCH_RUNS rounds (default 3; BENCH_QUICK=1: 1), medians. A figure whose run
  saw an error reply, a failed connection or a loadgen failure is marked
  failed, and the bench exits 1 after printing everything.
- BENCH_DIR/bench.json keeps every raw run.

Every load is bounded in requests and time and goes only to sockets this script
creates under a temporary directory.
"""
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BUILD = os.path.abspath(os.environ.get("BUILD", "build"))
OUT = os.path.abspath(os.environ.get("BENCH_DIR", BUILD))
QUICK = os.environ.get("BENCH_QUICK") == "1"
SCALE = os.environ.get("BENCH_SCALE", "small" if QUICK else "lean")
RUNS = int(os.environ.get("BENCH_RUNS", "1" if QUICK else "3"))
ENVPOOL = os.path.join(BUILD, "envpool")
ENVPOOLD = os.path.join(BUILD, "envpoold")
LOADGEN = os.path.join(BUILD, "bench", "loadgen")
JSOND = os.path.join(BUILD, "bench", "jsond")
SAMPLES = os.environ.get("ENVPOOL_SAMPLES", os.path.abspath("../shared/lean-samples"))
PREFIX = "Gen"
HOT = 1000                      # names in the hot set
WARM_CACHE = "1G"               # envpoold's --reply-cache for the warm-cache server

# Requests per load (QUICK: smoke sizes).
N = {"1x1": 2000, "50x1": 5000, "50x16": 20000, "open": 1000, "search": 100} if QUICK else \
    {"1x1": 10000, "50x1": 50000, "50x16": 200000, "open": 20000, "search": 500}
LOADS = [  # name, clients, depth, size key, request set
    ("get_1x1", 1, 1, "1x1", "uniform"),
    ("get_50x1", 50, 1, "50x1", "uniform"),
    ("get_50x16", 50, 16, "50x16", "uniform"),
    ("get_hot_50x16", 50, 16, "50x16", "hot"),
]

results = {"scale": SCALE, "runs": RUNS, "quick": QUICK, "machine": {}, "library": {},
           "raw": [], "figures": {}, "failed": [], "targets": {}}


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
        with open("/proc/loadavg") as f:
            info["loadavg_at_start"] = f.read().split()[:3]
    except OSError:
        pass
    return info


def generate(shape=None, prefix=PREFIX, modules=None, seed=1):
    """The library of a shape, generated once (a stamp records the command)."""
    shape = shape or SCALE
    name = shape if prefix == PREFIX else f"{shape}-{prefix}"
    out = os.path.join(OUT, "bench-lib", name)
    args = [ENVPOOL, "gen", out, "--shape", shape, "--prefix", prefix, "--seed", str(seed), "--stats"]
    if modules:
        args += ["--modules", str(modules)]
    stamp = os.path.join(out, ".done")
    want = " ".join(args[2:]) + "\n"
    if os.path.exists(stamp) and open(stamp).read() == want:
        return out
    shutil.rmtree(out, ignore_errors=True)
    log(f"bench: generating {name} ({' '.join(args[3:])}) ...")
    t = time.time()
    r = run(args)
    log(f"bench: generated in {time.time() - t:.1f} s: {r.stderr.strip()}")
    with open(stamp, "w") as f:
        f.write(want)
    with open(os.path.join(out, ".gen-seconds"), "w") as f:
        f.write(f"{time.time() - t:.1f}\n")
    return out


def library_bytes(lib):
    total = files = 0
    for root, _, fs in os.walk(lib):
        for f in fs:
            if f.endswith(".olean"):
                total += os.path.getsize(os.path.join(root, f))
                files += 1
    return total, files


def wait_socket(path, proc, seconds=60):
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


def all_names(sock, lib):
    """Every constant name of the environment [Gen], paged through decl.search
    (prefix "Gen": every generated name starts with it), cached beside the library."""
    path = lib + ".names"
    stamp = os.path.join(lib, ".done")
    if os.path.exists(path) and os.path.getmtime(path) >= os.path.getmtime(stamp):
        with open(path) as f:
            return [n.rstrip("\n") for n in f]
    c = Rpc(sock)
    names, cursor = [], None
    while True:
        p = {"imports": [PREFIX], "query": PREFIX, "mode": "prefix", "limit": 1000}
        if cursor:
            p["cursor"] = cursor
        r = c.call("decl.search", p)
        names += [it["name"] for it in r["items"]]
        cursor = r.get("next_cursor")
        if not cursor:
            break
    c.close()
    with open(path, "w") as f:
        f.writelines(n + "\n" for n in names)
    return names


LOADGEN_RE = re.compile(r"(\w+)=([\d.]+)")


def loadgen(sock, reqfile, clients, depth, n, lines=1, raw=False):
    """One loadgen run: its figures, or {"failed": reason}."""
    args = [LOADGEN, "-s", sock, "-c", str(clients), "-d", str(depth), "-n", str(n), "-f", reqfile, "-V"]
    if raw:
        args += ["-x"]
    if lines != 1:
        args += ["-l", str(lines)]
    try:
        p = subprocess.run(args, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        return {"failed": "loadgen did not finish in 600 s"}
    line = next((x for x in p.stdout.splitlines() if x.startswith("RESULT")), None)
    if p.returncode != 0 or not line:
        return {"failed": f"loadgen exit {p.returncode}: {(p.stderr or p.stdout).strip()[:300]}"}
    d = {k: float(v) for k, v in LOADGEN_RE.findall(line)}
    out = {k: d[k] for k in ("rps", "p50_us", "p90_us", "p99_us", "p999_us", "max_us", "elapsed_s") if k in d}
    out["errors"] = int(d.get("error_responses", 0))
    out["requests"] = n
    if out["errors"]:
        out["failed"] = f"{out['errors']} error replies"
    return out


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


def warm_page_cache(*dirs):
    """Reads every file once: "cold" opens are measured with the page cache warm."""
    for d in dirs:
        for root, _, fs in os.walk(d):
            for f in fs:
                with open(os.path.join(root, f), "rb") as fh:
                    while fh.read(1 << 20):
                        pass


def bench_reader(fig):
    samples = []
    for root, _, fs in os.walk(SAMPLES):
        samples += [os.path.join(root, f) for f in fs if f.endswith(".olean")]
    if not samples:
        return
    out = run([os.path.join(BUILD, "bench", "bench_region"), "--seconds", "3"] + sorted(samples)).stdout
    for line in out.splitlines():
        mbs = float(line.split("MB/s")[0].split()[-1])
        fig["validate_decode_mb_s" if "+ decode" in line else "validation_mb_s"] = mbs


def bench_pool_figures(lib, fig):
    """In-process figures of the pool (tests/bench/bench_pool.c) on the same library."""
    out = subprocess.run([os.path.join(BUILD, "bench", "bench_pool"), "--dir", lib, "--rounds", "3"],
                         capture_output=True, text=True, timeout=900).stdout
    for line in out.splitlines():
        if line.startswith("name index:"):
            fig["index_bytes_per_constant"] = float(line.split()[2])
        elif line.startswith("name lookup:"):
            m = re.search(r"(\d+) ns per hit over all names.*?, (\d+) ns per hit over [\d,]+ neighbouring", line)
            if m:
                fig["lookup_random_ns"], fig["lookup_neighbour_ns"] = float(m.group(1)), float(m.group(2))
        elif line.startswith("warm acquire+release"):
            fig["acquire_release_ns"] = float(line.split(":")[1].split()[0])


class Servers:
    """The servers under test, started once, stopped at exit."""

    def __init__(self, tmp):
        self.tmp, self.procs = tmp, []

    def start(self, name, args, sock, **kw):
        p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **kw)
        self.procs.append(p)
        wait_socket(sock, p)
        return p

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def write_lines(path, lines):
    with open(path, "w") as f:
        for line in lines:
            f.write(line + "\n")
    return path


def decl_get_line(i, name):
    return json.dumps({"jsonrpc": "2.0", "id": i, "method": "decl.get",
                       "params": {"imports": [PREFIX], "name": name}}, ensure_ascii=False,
                      separators=(",", ":"))


def median_figure(runs):
    ok = [r for r in runs if "failed" not in r]
    fig = {"runs": len(runs)}
    if len(ok) < len(runs):
        fig["failed"] = "; ".join(r["failed"] for r in runs if "failed" in r)
    for k in ("rps", "p50_us", "p90_us", "p99_us", "p999_us"):
        vals = [r[k] for r in ok if k in r]
        if vals:
            fig[k] = statistics.median(vals)
    return fig


def main():
    for tool in (ENVPOOL, ENVPOOLD, LOADGEN, JSOND):
        if not os.access(tool, os.X_OK):
            log(f"bench: {tool} is missing (make bench builds it from ../shared/bench)")
            return 2
    t_start = time.time()
    results["machine"] = machine()
    lib = generate()
    # The second key's extra 5%: another, small library imported next to the first.
    lib2 = generate(prefix="Gen2", modules=max(2, {"lean": 115, "mathlib": 380}.get(SCALE, 3)), seed=2)
    lbytes, lfiles = library_bytes(lib)
    results["library"] = {"dir": lib, "bytes": lbytes, "files": lfiles}
    try:
        results["library"]["gen_seconds"] = float(open(os.path.join(lib, ".gen-seconds")).read())
    except (OSError, ValueError):
        pass
    fig = results["figures"]
    if not QUICK:
        bench_reader(fig)
        warm_page_cache(lib)
        bench_pool_figures(lib, fig)
    warm_page_cache(lib, lib2)
    rng = random.Random(11)
    with tempfile.TemporaryDirectory(prefix="envpool-bench-") as tmp:
        srv = Servers(tmp)
        try:
            socks = {k: os.path.join(tmp, k + ".sock") for k in ("cache", "nocache", "jsond", "redis")}
            common = ["--search-path", f"{lib}:{lib2}", "--capacity", "8", "--log-level", "warn",
                      "--threads", "2"]
            dc = srv.start("cache", [ENVPOOLD, "--socket", socks["cache"], "--reply-cache", WARM_CACHE]
                           + common, socks["cache"])
            c = Rpc(socks["cache"])
            t = time.time()
            r = c.call("env.open", {"imports": [PREFIX]})
            fig["cold_open_ms"] = round((time.time() - t) * 1000, 1)
            fig["cold_open_load_ms"] = r.get("load_ms")
            results["library"].update(modules=r.get("modules"), constants=r.get("constants"))
            pool = c.call("pool.stats").get("pool", {})
            mapped1 = pool.get("mapped_bytes")
            r2 = c.call("env.open", {"imports": [PREFIX, "Gen2"]})
            mapped2 = c.call("pool.stats").get("pool", {}).get("mapped_bytes")
            fig["second_env_open_ms"] = r2.get("load_ms")
            if mapped1 and mapped2:
                results["library"]["mapped_bytes"] = mapped1
                fig["second_env_extra_mapped_pct"] = round(100.0 * (mapped2 - mapped1) / mapped1, 2)
            c.close()
            # envpoold drops the page table entries an import read at its next
            # file scan (every second, on a worker): memory once that ran.
            time.sleep(1.5)
            fig["daemon_memory_after_open"] = proc_memory(dc.pid)

            dn = srv.start("nocache", [ENVPOOLD, "--socket", socks["nocache"], "--reply-cache", "0"]
                           + common, socks["nocache"])
            Rpc(socks["nocache"]).call("env.open", {"imports": [PREFIX]})
            names = all_names(socks["cache"], lib)
            # The first decl.get of an environment builds its declaration info and the
            # first search its search structures (once, on a worker): timed here, so that
            # no load waits for them (loadgen gives up after 5 s without a reply).
            for key in ("cache", "nocache"):
                c = Rpc(socks[key])
                t = time.time()
                c.call("decl.get", {"imports": [PREFIX], "name": names[0]})
                fig[f"first_decl_get_ms_{key}"] = round((time.time() - t) * 1000, 1)
                t = time.time()
                c.call("decl.search", {"imports": [PREFIX], "query": PREFIX, "mode": "substring", "limit": 1})
                fig[f"first_search_ms_{key}"] = round((time.time() - t) * 1000, 1)
                c.close()
            nconst = len(names)
            results["library"]["names"] = nconst
            srv.start("jsond", [JSOND, "-n", str(nconst), socks["jsond"]], socks["jsond"])
            have_redis = shutil.which("redis-server") is not None
            if have_redis:
                srv.start("redis", ["redis-server", "--port", "0", "--unixsocket", socks["redis"], "--save", "",
                                    "--appendonly", "no", "--daemonize", "no", "--dir", tmp], socks["redis"])
            else:
                log("bench: redis-server is not installed: that baseline is left out")

            # Request files: uniform over all constants (as many lines as the largest load
            # sends, so that a warm pass covers them all), and a hot set.
            nreq = max(N.values())
            pick = [rng.randrange(nconst) for _ in range(nreq)]
            if os.environ.get("BENCH_INJECT_ERROR") == "1":  # tests: one unknown name must fail the bench
                names = names + ["Gen.no.such.constant"]
                pick[nreq // 3] = nconst
            hot = [rng.randrange(nconst) for _ in range(HOT)]
            req = {}
            req["envpoold", "uniform"] = write_lines(os.path.join(tmp, "get.req"),
                                                     (decl_get_line(i + 1, names[k]) for i, k in enumerate(pick)))
            req["envpoold", "hot"] = write_lines(os.path.join(tmp, "get-hot.req"),
                                                 (decl_get_line(i + 1, names[hot[i % HOT]]) for i in range(nreq)))
            jline = '{{"id":{},"method":"lookup","params":{{"name":"key:{:06d}"}}}}'
            req["jsond", "uniform"] = write_lines(os.path.join(tmp, "jsond.req"),
                                                  (jline.format(i + 1, k) for i, k in enumerate(pick)))
            req["jsond", "hot"] = write_lines(os.path.join(tmp, "jsond-hot.req"),
                                              (jline.format(i + 1, hot[i % HOT]) for i in range(nreq)))
            req["redis", "uniform"] = write_lines(os.path.join(tmp, "redis.req"),
                                                  (f"GET key:{k:06d}\\r\\n" for k in pick))
            req["redis", "hot"] = write_lines(os.path.join(tmp, "redis-hot.req"),
                                              (f"GET key:{hot[i % HOT]:06d}\\r\\n" for i in range(nreq)))
            setup = []
            if have_redis:  # every key exists, with a value the size of jsond's reply
                val = "v" * 80
                f = write_lines(os.path.join(tmp, "redis-set.req"),
                                (f"SET key:{k:06d} {val}\\r\\n" for k in range(nconst)))
                setup.append(("redis_populate", loadgen(socks["redis"], f, 1, 16, nconst, raw=True)))
            # The warm pass: every request name once through the caching daemon.
            # (50 connections start at evenly spaced lines and send nreq in all: every line once.)
            setup.append(("envpoold_cache_warm", loadgen(socks["cache"], req["envpoold", "uniform"], 50, 16, nreq)))
            setup.append(("envpoold_cache_warm_hot", loadgen(socks["cache"], req["envpoold", "hot"], 1, 16, HOT)))
            for label, r in setup:
                results["raw"].append({"setup": label, **r})
                if "failed" in r:
                    results["failed"].append(f"{label}: {r['failed']}")

            servers = [("envpoold", "cache"), ("envpoold", "nocache"), ("jsond", "jsond")]
            if have_redis:
                servers.append(("redis", "redis"))
            # env.open warm: open + close pairs on one connection (handles are 1, 2, 3...).
            opens = []
            for i in range(N["open"] // 2):
                opens.append(json.dumps({"jsonrpc": "2.0", "id": 2 * i + 1, "method": "env.open",
                                         "params": {"imports": [PREFIX]}}))
                opens.append(json.dumps({"jsonrpc": "2.0", "id": 2 * i + 2, "method": "env.close",
                                         "params": {"env": i + 1}}))
            open_req = write_lines(os.path.join(tmp, "open.req"), opens)
            search_req = {}
            for mode in ("prefix", "substring", "fuzzy"):
                qs = []
                for i, k in enumerate(pick[:N["search"]]):
                    n = names[k]
                    part = n.rsplit(".", 1)[0] if mode == "prefix" else n.rsplit(".", 1)[-1]
                    qs.append(json.dumps({"jsonrpc": "2.0", "id": i + 1, "method": "decl.search",
                                          "params": {"imports": [PREFIX], "query": part[:6] if mode == "fuzzy"
                                                     else part, "mode": mode, "limit": 20}},
                                         ensure_ascii=False))
                search_req[mode] = write_lines(os.path.join(tmp, f"search-{mode}.req"), qs)

            # Requests per run: what about BENCH_SECONDS (default 8) take at the rate a
            # short probe run shows, within [N/20, N]: a slow server gets fewer requests,
            # not minutes (the figures are rates and percentiles).
            secs = float(os.environ.get("BENCH_SECONDS", "8"))
            count = {}
            for load, cl, depth, size, kind in LOADS:
                for proto, key in servers:
                    if QUICK:  # the smoke's counts are small already
                        count[key, load] = N[size]
                        continue
                    n0 = max(cl * depth * 4, N[size] // 20)
                    r = loadgen(socks[key], req[proto, kind], cl, depth, n0,
                                lines=2 if proto == "redis" else 1, raw=proto == "redis")
                    results["raw"].append({"probe": True, "server": key, "load": load, **r})
                    rate = r.get("rps") or 0
                    count[key, load] = int(min(N[size], max(n0, rate * secs)))
            raw = {}
            for rnd in range(RUNS):
                log(f"bench: round {rnd + 1} of {RUNS}")
                for load, cl, depth, size, kind in LOADS:
                    for proto, key in servers:
                        r = loadgen(socks[key], req[proto, kind], cl, depth, count[key, load],
                                    lines=2 if proto == "redis" else 1, raw=proto == "redis")
                        raw.setdefault((key, load), []).append(r)
                        results["raw"].append({"server": key, "load": load, "round": rnd + 1, **r})
                r = loadgen(socks["cache"], open_req, 1, 1, N["open"])
                raw.setdefault(("cache", "env_open_close_1x1"), []).append(r)
                results["raw"].append({"server": "cache", "load": "env_open_close_1x1", "round": rnd + 1, **r})
                for mode, f in search_req.items():
                    r = loadgen(socks["cache"], f, 1, 1, N["search"])
                    raw.setdefault(("cache", f"search_{mode}_1x1"), []).append(r)
                    results["raw"].append({"server": "cache", "load": f"search_{mode}_1x1", "round": rnd + 1, **r})
            fig["daemon_memory_after_load"] = proc_memory(dc.pid)
            c = Rpc(socks["cache"])
            stats = c.call("pool.stats")
            c.close()
            fig["reply_cache"] = stats.get("reply_cache")
            for (key, load), runs in raw.items():
                f = median_figure(runs)
                fig.setdefault("servers", {}).setdefault(key, {})[load] = f
                if "failed" in f:
                    results["failed"].append(f"{key} {load}: {f['failed']}")
        finally:
            srv.stop()

    s = fig.get("servers", {})

    def get(key, load, k):
        return s.get(key, {}).get(load, {}).get(k)

    def ratio(a, b):
        return round(a / b, 2) if a and b else None

    t = results["targets"]
    t["get_50x16_cache_vs_jsond>=1.0"] = ratio(get("cache", "get_50x16", "rps"), get("jsond", "get_50x16", "rps"))
    t["get_50x16_nocache_vs_jsond>=0.5"] = ratio(get("nocache", "get_50x16", "rps"),
                                                 get("jsond", "get_50x16", "rps"))
    t["get_1x1_p50_cache_vs_jsond<=1.1"] = ratio(get("cache", "get_1x1", "p50_us"), get("jsond", "get_1x1", "p50_us"))
    t["get_1x1_p50_nocache_vs_jsond"] = ratio(get("nocache", "get_1x1", "p50_us"), get("jsond", "get_1x1", "p50_us"))
    results["wall_seconds"] = round(time.time() - t_start, 1)
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "bench.json"), "w") as f:
        json.dump(results, f, indent=2)
    print_table()
    if results["failed"]:
        print("\nFAILED figures (error replies or failed connections):")
        for x in results["failed"]:
            print(f"  {x}")
        return 1
    return 0


def print_table():
    fig, m, lib = results["figures"], results["machine"], results["library"]
    s = fig.get("servers", {})
    print(f"\nenvpool bench — {SCALE} shape: {lib.get('modules')} modules, {lib.get('constants')} constants, "
          f"{lib.get('bytes', 0) / 1e9:.2f} GB of .olean ({lib.get('files')} files); "
          f"{RUNS} round(s), medians")
    print(f"machine: {m.get('cpu', '?')}, {m.get('cores')} cores, {m.get('memory_gib')} GiB, "
          f"load average at start {' '.join(m.get('loadavg_at_start', []))}\n")

    def cell(key, load):
        x = s.get(key, {}).get(load)
        if not x:
            return "-"
        if "failed" in x:
            return "FAILED"
        return f"{x.get('rps', 0):>9,.0f}/s p50 {x.get('p50_us', 0):7.1f} p99 {x.get('p99_us', 0):7.1f}"

    cols = [("cache", "envpoold (reply cache)"), ("nocache", "envpoold --reply-cache 0"),
            ("jsond", "jsond"), ("redis", "redis GET")]
    print("  " + "load".ljust(16) + "".join(c[1].ljust(40) for c in cols))
    for load, *_ in LOADS:
        print("  " + load.ljust(16) + "".join(cell(k, load).ljust(40) for k, _ in cols))
    print()
    for load in ("env_open_close_1x1", "search_prefix_1x1", "search_substring_1x1", "search_fuzzy_1x1"):
        print(f"  envpoold {load:<22} {cell('cache', load)}")
    print(f"\n  cold env.open (page cache warm)   {fig.get('cold_open_ms')} ms")
    print(f"  first decl.get / first search     {fig.get('first_decl_get_ms_nocache')} ms / "
          f"{fig.get('first_search_ms_nocache')} ms (declaration info, search structures)")
    print(f"  second key (95% shared)           {fig.get('second_env_open_ms')} ms, "
          f"+{fig.get('second_env_extra_mapped_pct')}% mapped")
    for k in ("daemon_memory_after_open", "daemon_memory_after_load"):
        mem = fig.get(k, {})
        print(f"  {k:<33} " + ", ".join(f"{a} {b / 1048576:.1f} MiB" for a, b in mem.items()))
    for k in ("validation_mb_s", "validate_decode_mb_s", "index_bytes_per_constant", "lookup_random_ns",
              "acquire_release_ns"):
        if k in fig:
            print(f"  {k:<33} {fig[k]}")
    print("\ntargets (ratios of medians):")
    for k, v in results["targets"].items():
        print(f"  {k:<36} {v}")
    print(f"\nwall time {results.get('wall_seconds')} s; raw runs in {os.path.join(OUT, 'bench.json')}")


if __name__ == "__main__":
    sys.exit(main())
