"""tests/integration/lib/fresh_loop.py — the zero-delay rebuild loop of issue 9.

    python3 fresh_loop.py SOCKET LIBDIR VA VB MODE ROUNDS

Each round replaces LIBDIR/R.olean with the other of two versions of module R
(VA declares R.va, VB declares R.vb; the same size, so only the events and the
identity tell them apart), then at once — no sleep, no retry — opens [R] and
asks for the new version's constant and for the old one's. A stale answer is
any of: env.open a hit, the new name not found, the old name found. MODE:

    rename    write R.olean.tmp, rename it over R.olean (what lake does)
    inplace   truncate R.olean and write the new bytes into the same inode
    recreate  unlink R.olean, create it afresh
    held      rename, while a second connection holds the environment of the
              old file: it must keep answering from what it mapped (the old
              name found), and the key goes to a fresh import (stale_in_use
              counts every round); then it closes and reopens (a hit)
    cached    in place, as inplace, and then only decl.get with "imports"
              (the daemon's fast path: the reply cache, no jansson, no probe
              of the file's tail when every file is watched): the old
              version's name, asked twice the round before so that its answer
              is cached, must now be not found, and the new one found twice

Pipelined, two round trips a round: env.open and a decl.get with "imports"
(which joins the import) in one write; then, with the handle, decl.get of
the new name, decl.get of the old one and env.close in one write. Replies are
matched by id (a name not found is answered later: its suggestions are
searched on a worker).

Prints one line "MODE: ROUNDS rounds, N stale answers, ..." and exits 1 if N > 0.
"""
import json
import os
import sys
import time

from rpc import Conn, error_code, stats

path, libdir, va, vb, mode, rounds = sys.argv[1:7]
rounds = int(rounds)
target = os.path.join(libdir, "R.olean")
versions = [(open(va, "rb").read(), "R.va"), (open(vb, "rb").read(), "R.vb")]
assert len(versions[0][0]) == len(versions[1][0]), "the two versions should have one size"


def write_all(fd, data):
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def replace(data):
    if mode in ("rename", "held"):
        tmp = target + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        write_all(fd, data)
        os.close(fd)
        os.rename(tmp, target)
    elif mode in ("inplace", "cached"):
        fd = os.open(target, os.O_WRONLY | os.O_TRUNC)
        write_all(fd, data)
        os.close(fd)
    elif mode == "recreate":
        os.unlink(target)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        write_all(fd, data)
        os.close(fd)
    else:
        raise SystemExit("unknown mode " + mode)


class Pipe(Conn):
    """Conn with pipelined requests: send several in one write, collect replies by id."""

    def send_many(self, reqs):
        ids = []
        frames = []
        for method, params in reqs:
            rid = self.next_id
            self.next_id += 1
            ids.append(rid)
            frames.append(json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params}).encode())
        self.s.sendall(b"\n".join(frames) + b"\n")
        got = {}
        while len(got) < len(ids):
            m = self.read_reply()
            assert m.get("id") in ids and m["id"] not in got, m
            got[m["id"]] = m
        return [got[i] for i in ids]


c = Pipe(path)
before = stats(path)["pool"]
# Start from version 0 served.
replace(versions[0][0])
h = c.call("env.open", {"imports": ["R"]})["result"]["env"]
c.call("env.close", {"env": h})
hold = hh = None
if mode == "held":
    hold = Pipe(path)
    hh = hold.call("env.open", {"imports": ["R"]})["result"]["env"]
stale = hits = errors = held_lost = 0
if mode == "cached":  # version 0's name answered twice: the second from the cache
    for _ in range(2):
        assert c.call("decl.get", {"imports": ["R"], "name": versions[0][1]})["result"]
t0 = time.monotonic()
for i in range(rounds):
    data, new = versions[(i + 1) % 2]
    old = versions[i % 2][1]
    replace(data)
    if mode == "cached":
        got_old, got_new, again = c.send_many([("decl.get", {"imports": ["R"], "name": old}),
                                               ("decl.get", {"imports": ["R"], "name": new}),
                                               ("decl.get", {"imports": ["R"], "name": new})])
        bad = error_code(got_old) != -32004 or any(
            "result" not in g or g["result"]["name"] != new for g in (got_new, again))
        if bad:
            stale += 1
            if stale <= 5:
                print("round %d: stale answer: old=%s new=%s again=%s" % (i, got_old, got_new, again),
                      file=sys.stderr)
        continue
    m, via_imports = c.send_many([("env.open", {"imports": ["R"]}),
                                  ("decl.get", {"imports": ["R"], "name": new})])
    if "result" not in m:
        errors += 1
        stale += 1
        print("round %d: env.open failed: %s" % (i, m), file=sys.stderr)
        continue
    r = m["result"]
    bad = False
    if r["hit"]:
        hits += 1
        bad = True
    h = r["env"]
    got_new, got_old, closed = c.send_many([("decl.get", {"env": h, "name": new}),
                                            ("decl.get", {"env": h, "name": old}),
                                            ("env.close", {"env": h})])
    for g in (got_new, via_imports):
        if "result" not in g or g["result"]["name"] != new:
            bad = True
    if "error" not in got_old or error_code(got_old) != -32004:
        bad = True
    assert "result" in closed, closed
    if hold:
        kept, _, reopened = hold.send_many([("decl.get", {"env": hh, "name": old}),
                                            ("env.close", {"env": hh}),
                                            ("env.open", {"imports": ["R"]})])
        if "result" not in kept or kept["result"]["name"] != old:
            held_lost += 1
            bad = True
        hh = reopened["result"]["env"]
    if bad:
        stale += 1
        if stale <= 5:
            print("round %d: stale answer: open=%s new=%s (imports: %s) old=%s" % (i, r, got_new, via_imports, got_old),
                  file=sys.stderr)
elapsed = time.monotonic() - t0
if hold:
    hold.call("env.close", {"env": hh})
    hold.close()
after = stats(path)["pool"]
c.close()
d = {k: after[k] - before[k] for k in after if isinstance(after[k], int) and k in before}
marks = ", ".join("%s=%d" % (k, d[k]) for k in ("stale_marks_event", "stale_marks_scan", "stale_marks_fault",
                                                "evicted_stale", "stale_in_use", "imports_restarted") if k in d)
print("%s: %d rounds, %d stale answers (%d hits, %d errors%s), %.1f s, %.0f rounds/s; %s" %
      (mode, rounds, stale, hits, errors, ", %d holders lost" % held_lost if hold else "", elapsed,
       rounds / elapsed if elapsed else 0, marks))
if hold:
    # every round found the held environment stale in use, and none is held now
    assert d["stale_in_use"] == rounds and after["stale_held"] == 0, (d, after)
assert after["acquired"] == after["imports_performed"] + after["reused"], after
assert after["releases"] == after["released_to_pool"] + after["released_dropped"], after
sys.exit(1 if stale else 0)
