#!/usr/bin/env python3
"""bench/memory.py — `make bench-memory`: how much memory envpoold needs, to size a host.

Starts envpoold on a temporary socket and reads /proc/PID/smaps_rollup after
each step: idle; the example library open (build/examples, 8 modules);
generated libraries shaped like `import Lean` and (BENCH_SCALE=mathlib) like
Mathlib, the same shapes as `make bench` (cached under BUILD/bench-lib/); a
second key sharing most modules; the reply cache filled by decl.get of every
name read. Prints RSS, private (anonymous, the daemon's own) and the
file-backed rest (the mapped .olean pages: shared with the page cache and with
any other process mapping the same files, and reclaimable).

Uses the Python client (clients/python/envpool_client.py).
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "clients", "python"))
import run as bench  # noqa: E402  (generate(), all_names())
import envpool_client as ec  # noqa: E402

BUILD = bench.BUILD
SCALE = os.environ.get("BENCH_SCALE", "lean")


def memory(pid):
    m = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("Rss", "Pss", "Private_Dirty", "Anonymous"):
                m[k] = int(v.split()[0]) * 1024
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("RssAnon:", "RssFile:")):
                k, v = line.split(":")
                m[k] = int(v.split()[0]) * 1024
    return m


def row(label, m, extra=""):
    mib = lambda v: f"{v / 1048576:7.1f}"  # noqa: E731
    print(f"  {label:<60} RSS {mib(m['Rss'])} MiB  private {mib(m['RssAnon'])} MiB  "
          f"file-backed {mib(m['RssFile'])} MiB  {extra}", flush=True)


def main():
    lib = bench.generate(SCALE)
    examples = os.path.join(BUILD, "examples")
    tmp = tempfile.mkdtemp(prefix="envpool-mem.")
    sock = os.path.join(tmp, "envpool.sock")
    proc = subprocess.Popen([os.path.join(BUILD, "envpoold"), "--socket", sock, "--search-path",
                             examples + ":" + lib, "--log-level", "warn"])
    try:
        bench.wait_socket(sock, proc)
        c = ec.Client(sock)
        print(f"envpoold memory ({SCALE} shape, envpool gen --shape {SCALE}), "
              f"reply cache budget 64 MiB (default):")
        row("idle, nothing open", memory(proc.pid))
        r = c.open(["Demo.Main"])
        row(f"example library open ({r['modules']} modules, {r['constants']} constants)", memory(proc.pid))
        for n in ("Nat.add_comm", "List.map", "Nat.add"):
            c.get(n, env=r["env"])
        # Read every file once outside the daemon, so the import does not count a cold disk.
        bench.warm_page_cache(lib)
        t = time.time()
        g = c.open(["Gen"])
        ms = (time.time() - t) * 1000
        st = c.stats()["pool"]
        row(f"+ generated library open ({g['modules']} modules, {g['constants']} constants)", memory(proc.pid),
            f"mapped {st['mapped_bytes'] / 1048576:.0f} MiB, open {ms:.0f} ms")
        # The import leaves the pages it read in the page tables; the daemon's next file
        # scan (every second, on a worker) releases them.
        time.sleep(1.5)
        row("  ... after the next file scan (pages the import read released)", memory(proc.pid))
        # A second key: the root's first import only (shares its modules with the first key).
        second = c.modules(env=g["env"])
        mods = second["modules"] if isinstance(second, dict) else second
        key2 = [mods[-2]["name"]]
        g2 = c.open(key2)
        row(f"+ a second key sharing modules ({g2['modules']} modules)", memory(proc.pid))
        sample = bench.all_names(sock, lib)[:20000]
        c.map("decl.get", [{"env": g["env"], "name": n} for n in sample], return_exceptions=True)
        rc = c.stats()["reply_cache"]
        row(f"+ decl.get of {len(sample)} names (reply cache)", memory(proc.pid),
            f"cache {rc['bytes'] / 1048576:.1f} MiB in {rc['entries']} entries")
        c.search("Gen.L1", env=g["env"], mode="prefix")
        row("+ first decl.search (search structures built)", memory(proc.pid))
        c.close(g2["env"])
        c.close(g["env"])
        c.drain()
        time.sleep(0.5)  # dropped environments are unmapped on a worker
        row("after env.close + pool.drain", memory(proc.pid))
        c.disconnect()
    finally:
        proc.terminate()
        proc.wait(60)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
