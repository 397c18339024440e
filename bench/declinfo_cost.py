#!/usr/bin/env python3
"""bench/declinfo_cost.py — what decl.get's extension-entry fields cost (issue 12 item 4).

    python3 bench/declinfo_cost.py OLD_BUILD NEW_BUILD [ROUNDS]

OLD_BUILD is envpoold from before the extension entries (e.g. main at the
parent of "Merge branch 'ext'", c977cba: `git archive c977cba | tar -x -C
build/pre-src && make -C build/pre-src`), NEW_BUILD the current one (`build`).
Both serve the same two workloads, alternated ROUNDS times (default 3), each
run with a daemon started afresh, warmed, then measured by the shared
load generator (../shared/bench/loadgen.c, -V: an error reply fails the run):

  samples  one partial environment of eleven sample modules of every era
           (real docstrings, ranges, attributes); decl.get of every constant
           by handle, one connection, one request in flight (latency)
  gen      a generated library (envpool gen: 300 modules x 87 declarations,
           no extension entries); decl.get with imports, one connection x 1
           (latency) and 8 connections x 16 in flight (throughput)

each with the reply cache on (64M, the default) and off (--reply-cache 0:
every answer decoded and rendered). Prints p50/p99 per run and the medians,
then NEW's pool.stats declaration info memory (declinfo_bytes /
declinfo_constants) for each workload. Only ratios from one run mean
anything on a shared machine.
"""
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

OLD, NEW = sys.argv[1], sys.argv[2]
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 3
N = int(os.environ.get("BENCH_REQUESTS", "20000"))
HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = os.environ.get("ENVPOOL_SAMPLES", os.path.join(HERE, "..", "..", "shared", "lean-samples"))
LOADGEN_SRC = os.environ.get("LOADGEN_SRC", os.path.join(HERE, "..", "..", "shared", "bench", "loadgen.c"))

SAMPLE_MODULES = [  # (root under the samples, module)
    ("zk-lean@3ca4245/.lake/build/lib/lean", "ZkLean"),
    ("zk-lean@3ca4245/.lake/build/lib/lean", "ZkLean.Formalism"),
    ("CS-MathInLean@143a71d/build/lib", "MyNatAdd"),
    ("CS-MathInLean@143a71d/build/lib", "MyNatDef"),
    ("a-weak-Silly-substitution-Calculus@f9ad27e/.lake/build/lib/lean", "SSC.Syntax"),
    ("kmp-casestudy-lean@fae0097/.lake/build/lib/lean", "Kmpstudy"),
    ("Lean_Playground@2ff1bf8/.lake/build/lib/lean", "LeanExamples.Basic"),
    ("leaningIntoGroupTheory@8c707c5/.lake/build/lib/lean", "LeaningIntoGroupTheory.Basic"),
    ("math190formalize@1d2de09/.lake/build/lib", "Math190formalize.Basic"),
    ("lean4-playground@9c4259e/.lake/build/lib", "LeanPlayground.Basic"),
    ("signatures@3e21056/build/lib", "Cdclt"),
]

tmp = tempfile.mkdtemp(prefix="envpool-declcost.")
procs = []


def sh(*args, **kw):
    return subprocess.run(args, check=True, **kw)


def names_of(files):
    out = subprocess.run([os.path.join(NEW, "envpool"), "dump", "--json"] + files, check=True,
                         stdout=subprocess.PIPE).stdout.decode()
    dec, i, names = json.JSONDecoder(), 0, []
    while i < len(out):
        while i < len(out) and out[i].isspace():
            i += 1
        if i >= len(out):
            break
        d, i = dec.raw_decode(out, i)
        names += [c["name"] for c in d["constants"]]
    return names


def rpc(sock, method, params=None):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    s.sendall(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}).encode() + b"\n")
    buf = b""
    while True:  # the reply, past any $/progress notification of a long import
        while b"\n" not in buf:
            buf += s.recv(1 << 20)
        line, buf = buf.split(b"\n", 1)
        m = json.loads(line)
        if "method" not in m:
            s.close()
            return m


def start(build, roots, extra):
    sock = os.path.join(tmp, "s.sock")
    if os.path.exists(sock):
        os.unlink(sock)
    p = subprocess.Popen([os.path.join(build, "envpoold"), "--socket", sock, "--search-path", ":".join(roots),
                          "--log-level", "warn", "--threads", "2"] + extra)
    procs.append(p)
    for _ in range(600):
        if os.path.exists(sock):
            return p, sock
        time.sleep(0.05)
    raise SystemExit("envpoold did not start")


def stop(p):
    p.terminate()
    p.wait()
    procs.remove(p)


def loadgen(sock, reqfile, c, d, n):
    out = subprocess.run([os.path.join(tmp, "loadgen"), "-s", sock, "-c", str(c), "-d", str(d), "-n", str(n),
                          "-f", reqfile, "-V"], check=True, stdout=subprocess.PIPE).stdout.decode()
    line = [x for x in out.splitlines() if x.startswith("RESULT")][-1]
    if "error_responses=0" not in line:
        raise SystemExit("error replies: " + line)
    f = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
    return float(f["p50_us"]), float(f["p99_us"]), float(f["rps"])


try:
    sh("cc", "-O2", "-o", os.path.join(tmp, "loadgen"), LOADGEN_SRC)
    # samples: one partial environment, decl.get by handle (line 1 opens it: handle 1)
    roots, files, mods = [], [], []
    for root, mod in SAMPLE_MODULES:
        r = os.path.realpath(os.path.join(SAMPLES, root))
        if r not in roots:
            roots.append(r)
        files.append(os.path.join(r, mod.replace(".", "/") + ".olean"))
        mods.append(mod)
    snames = names_of(files)
    sreq = os.path.join(tmp, "samples.req")
    with open(sreq, "w") as f:
        f.write(json.dumps({"jsonrpc": "2.0", "id": 0, "method": "env.open",
                            "params": {"imports": mods, "partial": True}}) + "\n")
        for i, n in enumerate(snames):
            f.write(json.dumps({"jsonrpc": "2.0", "id": i + 1, "method": "decl.get",
                                "params": {"env": 1, "name": n}}) + "\n")
    # gen: a generated library, decl.get with imports
    lib = os.path.join(tmp, "gen")
    sh(os.path.join(NEW, "envpool"), "gen", lib, "--prefix", "Gen", "--modules", "300", "--decls", "87",
       "--fan-in", "4", "--depth", "10", "--seed", "1", stdout=subprocess.DEVNULL)
    gfiles = sorted(os.path.join(dp, x) for dp, _, fs in os.walk(lib) for x in fs if x.endswith(".olean"))
    gnames = names_of(gfiles[::10])
    greq = os.path.join(tmp, "gen.req")
    with open(greq, "w") as f:
        for i, n in enumerate(gnames):
            f.write(json.dumps({"jsonrpc": "2.0", "id": i, "method": "decl.get",
                                "params": {"imports": ["Gen"], "name": n}}) + "\n")
    print("declinfo_cost: samples %d constants of %d modules, gen %d names; %d requests a run, %d rounds"
          % (len(snames), len(mods), len(gnames), N, ROUNDS))

    results = {}  # (workload, cache, shape, build) -> [(p50, p99, rps)]
    mem = {}

    def run(build, workload, cache):
        extra = [] if cache == "cache" else ["--reply-cache", "0"]
        if workload == "samples":
            p, sock = start(build, roots, extra)
            # the import first (loadgen would count a $/progress notification as a reply)
            assert "result" in rpc(sock, "env.open", {"imports": mods, "partial": True})
            loadgen(sock, sreq, 1, 1, 2000)  # warm: the import and (NEW) the declaration info
            shapes = [("1x1", 1, 1)]
            req = sreq
        else:
            p, sock = start(build, [lib], extra)
            assert "result" in rpc(sock, "env.open", {"imports": ["Gen"]})
            loadgen(sock, greq, 1, 1, 2000)
            shapes = [("1x1", 1, 1), ("8x16", 8, 16)]
            req = greq
        for shape, c, d in shapes:
            r = loadgen(sock, req, c, d, N if c == 1 else 10 * N)
            results.setdefault((workload, cache, shape, build), []).append(r)
            print("  %-7s %-8s %-5s %-28s p50 %6.1f us  p99 %6.1f us  %8.0f rps" % ((workload, cache, shape, build) + r))
        if build == NEW:
            mem[workload] = rpc(sock, "pool.stats")["result"]["pool"]
        stop(p)

    for r in range(ROUNDS):
        for workload in ("samples", "gen"):
            for cache in ("cache", "nocache"):
                order = (OLD, NEW) if r % 2 == 0 else (NEW, OLD)
                for b in order:
                    run(b, workload, cache)
    print("medians over %d runs (p50 / p99 in us, rps):" % ROUNDS)
    for key in sorted({k[:3] for k in results}):
        row = []
        for b in (OLD, NEW):
            v = results[key + (b,)]
            row.append("%.1f / %.1f, %.0f" % (statistics.median(x[0] for x in v),
                                              statistics.median(x[1] for x in v),
                                              statistics.median(x[2] for x in v)))
        print("  %-7s %-8s %-5s  old: %s   new: %s" % (key + tuple(row)))
    for workload, p in mem.items():
        if "declinfo_constants" in p and p["declinfo_constants"]:
            print("  memory %-7s declinfo_bytes=%d declinfo_constants=%d: %.1f bytes per constant (builds %d)" %
                  (workload, p["declinfo_bytes"], p["declinfo_constants"],
                   p["declinfo_bytes"] / p["declinfo_constants"], p["declinfo_builds"]))
finally:
    for p in procs:
        p.kill()
        p.wait()
    shutil.rmtree(tmp, ignore_errors=True)
