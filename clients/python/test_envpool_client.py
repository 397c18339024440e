"""Tests of envpool_client against the real envpoold (run by tests/integration/python_client.sh).

Environment: ENVPOOL_BUILD (build dir with envpoold, envpool and examples/),
ENVPOOL_TEST_DIR (a fresh temporary directory). Each test class starts its own
daemon on a socket in that directory, with the example library and generated
libraries on its search path; VALGRIND=1 runs the daemon under valgrind.
"""
import asyncio
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import envpool_client as ec  # noqa: E402

BUILD = os.environ["ENVPOOL_BUILD"]
TMP = os.environ["ENVPOOL_TEST_DIR"]
LIB = os.path.join(TMP, "lib")
SOCK = os.path.join(TMP, "envpool.sock")
EXAMPLES = os.path.join(BUILD, "examples")
SLOW = 3 if os.environ.get("VALGRIND") == "1" else 1


class Daemon:
    """One envpoold process on SOCK; stop() checks it exits 0 (leak check included)."""

    def __init__(self):
        self.log = open(os.path.join(TMP, "daemon.log"), "ab")
        cmd = [os.path.join(BUILD, "envpoold"), "--socket", SOCK, "--search-path", EXAMPLES + ":" + LIB]
        if os.environ.get("VALGRIND") == "1":
            cmd = ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
                   "--errors-for-leak-kinds=definite,indirect"] + cmd
        env = dict(os.environ, ENVPOOL_CHECK_LEAKS="1")
        self.proc = subprocess.Popen(cmd, stderr=self.log, env=env)
        deadline = time.time() + 60
        while True:
            assert self.proc.poll() is None, "envpoold exited during startup"
            try:
                with ec.Client(SOCK) as c:
                    c.info()
                break
            except ec.Unavailable:
                assert time.time() < deadline, "envpoold did not start"
                time.sleep(0.05)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(120)
        self.log.close()
        assert rc == 0, "envpoold exited with %d" % rc


def setUpModule():
    os.makedirs(LIB, exist_ok=True)
    gen = os.path.join(BUILD, "envpool")
    for prefix, mods in (("Big", 300), ("Slow", 300)):
        if not os.path.exists(os.path.join(LIB, prefix + ".olean")):
            subprocess.run([gen, "gen", LIB, "--prefix", prefix, "--modules", str(mods), "--decls", "200"],
                           check=True, stdout=subprocess.DEVNULL)


def names_of(c, env, n=1000):
    """n declaration names of the environment (through decl.search's pages)."""
    names, cursor = [], None
    while len(names) < n:
        page = c.search("Big.", env=env, mode="prefix", limit=min(1000, n - len(names)), cursor=cursor)
        names += [i["name"] for i in page["items"]]
        cursor = page["next_cursor"]
        assert cursor or len(names) >= n, len(names)
    return names


class DaemonTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()


class TestSync(DaemonTest):
    def test_methods(self):
        with ec.Client(SOCK, timeout=60) as c:
            info = c.info()
            self.assertEqual(info["name"], "envpoold")
            for m in ("env.open", "decl.get", "decl.search", "module.list", "pool.stats"):
                self.assertIn(m, info["methods"])
            r = c.open(["Demo.Main"])
            env = r["env"]
            self.assertGreater(r["constants"], 100)
            d = c.get("Nat.add_comm", env=env)
            self.assertEqual(d["kind"], "theorem")
            self.assertEqual(d["module"], "Demo.Nat")
            self.assertIn("Nat.add", d["type"])
            self.assertIn("value", c.get("Nat.add", env=env, value=True))
            self.assertNotIn("value", c.get("Nat.add", imports=["Demo.Main"]))
            page = c.search("Nat.add", env=env, mode="prefix", limit=2)
            self.assertEqual(len(page["items"]), 2)
            self.assertTrue(all(i["name"].startswith("Nat.add") for i in page["items"]))
            rest = c.search("Nat.add", env=env, mode="prefix", limit=1000, cursor=page["next_cursor"])
            names = [i["name"] for i in page["items"] + rest["items"]]
            self.assertEqual(len(names), len(set(names)))
            self.assertIsNone(rest["next_cursor"])
            self.assertTrue(c.search("addcomm", imports=["Demo.Main"], mode="fuzzy")["items"])
            mods = c.modules(env=env)
            self.assertEqual(mods[-1]["name"] if isinstance(mods, list) else mods["modules"][-1]["name"],
                             "Demo.Main")
            st = c.stats()
            self.assertGreaterEqual(st["pool"]["acquired"], 1)
            prom = c.stats(format="prometheus")
            self.assertIn("envpool_pool_acquired_total", prom["text"])
            self.assertEqual(c.call("server.info")["pid"], info["pid"])
            c.notify("$/cancelRequest", {"id": 999999})  # nothing pending: nothing happens
            self.assertEqual(c.close(env), {"kept": True})
            self.assertGreaterEqual(c.drain()["drained"], 1)

    def test_errors(self):
        with ec.Client(SOCK) as c:
            with self.assertRaises(ec.DeclNotFound) as cm:
                c.get("Nat.add_com", imports=["Demo.Main"])
            e = cm.exception
            self.assertEqual(e.code, -32004)
            self.assertIn("Nat.add_comm", e.data["suggestions"])
            self.assertIn("Nat.add_com", e.message)
            with self.assertRaises(ec.ModuleNotFound) as cm:
                c.open(["Demo.Nope"])
            self.assertEqual(cm.exception.data["module"], "Demo.Nope")
            with self.assertRaises(ec.UnknownEnv):
                c.get("Nat.add", env=4242)
            with self.assertRaises(ec.InvalidParams) as cm:
                c.call("decl.get", {"imports": ["Demo.Main"], "nmae": "x"})
            self.assertEqual(cm.exception.data["param"], "nmae")
            with self.assertRaises(ec.MethodNotFound):
                c.call("no.such")
            with self.assertRaises(ValueError):
                c.get("Nat.add")  # neither env nor imports: refused locally
            self.assertTrue(issubclass(ec.DeclNotFound, ec.RpcError))
            # The connection survives every error.
            self.assertEqual(c.info()["name"], "envpoold")

    def test_map_1000(self):
        with ec.Client(SOCK) as c:
            env = c.open(["Big"])["env"]
            names = names_of(c, env)
            # Every tenth name does not exist: those come back as errors in their place.
            names = [n if i % 10 else n + ".missing" for i, n in enumerate(names)]
            res = c.map("decl.get", [{"env": env, "name": n} for n in names], return_exceptions=True)
            self.assertEqual(len(res), 1000)
            for i, (n, r) in enumerate(zip(names, res)):
                if i % 10 == 0:
                    self.assertIsInstance(r, ec.DeclNotFound)
                    self.assertEqual(r.data["name"], n)
                else:
                    self.assertEqual(r["name"], n)
            with self.assertRaises(ec.DeclNotFound):
                c.map("decl.get", [{"env": env, "name": "Big.L0.M0.d0"}, {"env": env, "name": "zz"},
                                   {"env": env, "name": "Big.L0.M0.d1"}])
            self.assertEqual(c.get("Big.L0.M0.d0", env=env)["name"], "Big.L0.M0.d0")  # still in step

    def test_timeout_cancels(self):
        with ec.Client(SOCK) as c:
            c.drain()
            before = c.stats()["methods"]["env.open"]["cancelled"]
            with self.assertRaises(ec.RequestTimeout) as cm:
                c.call("env.open", {"imports": ["Slow"]}, timeout=0.0001)
            self.assertIsInstance(cm.exception, TimeoutError)
            self.assertEqual(cm.exception.code, -32800)
            self.assertEqual(c.stats()["methods"]["env.open"]["cancelled"], before + 1)
            self.assertEqual(c.info()["name"], "envpoold")

    def test_progress_notifications(self):
        seen = []
        with ec.Client(SOCK, on_notification=lambda m, p: seen.append((m, p))) as c:
            c.drain()
            c.open(["Big", "Slow"])
        # $/progress comes only for imports over 200 ms; when it came, it is well formed.
        for m, p in seen:
            self.assertEqual(m, "$/progress")
            self.assertLessEqual(p["loaded"], p["total"])


class TestAsync(DaemonTest):
    def test_methods_and_errors(self):
        async def run():
            async with ec.AsyncClient(SOCK) as c:
                r = await c.open(["Demo.Main"])
                d, s, m, st, i = await asyncio.gather(
                    c.get("Nat.add_comm", env=r["env"]), c.search("Nat", env=r["env"], mode="prefix"),
                    c.modules(env=r["env"]), c.stats(), c.info())
                self.assertEqual(d["kind"], "theorem")
                self.assertTrue(s["items"])
                self.assertIn("pool", st)
                self.assertEqual(i["name"], "envpoold")
                with self.assertRaises(ec.DeclNotFound) as cm:
                    await c.get("Nat.add_com", env=r["env"])
                self.assertIn("Nat.add_comm", cm.exception.data["suggestions"])
                with self.assertRaises(ec.InvalidParams):
                    await c.call("decl.search", {"env": r["env"], "query": "x", "mode": "regex"})
                await c.notify("$/cancelRequest", {"id": 123456})
                self.assertEqual((await c.close(r["env"]))["kept"], True)
                self.assertIn("drained", await c.drain())
        asyncio.run(run())

    def test_pipelining_1000(self):
        async def run():
            async with ec.AsyncClient(SOCK) as c:
                env = (await c.open(["Big"]))["env"]
                with ec.Client(SOCK) as sc:
                    names = names_of(sc, sc.open(["Big"])["env"])
                names = [n if i % 10 else n + ".missing" for i, n in enumerate(names)]
                peak = [0]

                async def one(n):
                    task = c.get(n, env=env)
                    peak[0] = max(peak[0], len(c._pending))
                    try:
                        return await task
                    except ec.DeclNotFound as e:
                        return e

                tasks = [asyncio.ensure_future(one(n)) for n in names]
                await asyncio.sleep(0)
                peak[0] = max(peak[0], len(c._pending))
                res = await asyncio.gather(*tasks)
                for i, (n, r) in enumerate(zip(names, res)):
                    if i % 10 == 0:
                        self.assertIsInstance(r, ec.DeclNotFound)
                        self.assertEqual(r.data["name"], n)
                    else:
                        self.assertEqual(r["name"], n)
                # Many requests were in flight at once on the one connection.
                self.assertGreater(peak[0], 100)
                self.assertEqual(len(c._pending), 0)
        asyncio.run(run())

    def test_cancellation(self):
        async def run():
            async with ec.AsyncClient(SOCK) as c:
                await c.drain()
                before = (await c.stats())["methods"]["env.open"]["cancelled"]
                t = asyncio.ensure_future(c.open(["Slow"]))
                while not c._pending:
                    await asyncio.sleep(0)
                t.cancel()
                with self.assertRaises(asyncio.CancelledError):
                    await t
                deadline = time.time() + 30
                while (await c.stats())["methods"]["env.open"]["cancelled"] != before + 1:
                    self.assertLess(time.time(), deadline)
                    await asyncio.sleep(0.01)
                self.assertEqual((await c.info())["name"], "envpoold")
                # The reply to the cancelled id (-32800) was dropped, not given to anyone.
                self.assertEqual(len(c._pending), 0)
        asyncio.run(run())


class TestReconnect(unittest.TestCase):
    def test_restart(self):
        d = Daemon()
        sync = ec.Client(SOCK)
        aio = ec.AsyncClient(SOCK)
        loop = asyncio.new_event_loop()
        try:
            pid1 = sync.info()["pid"]
            self.assertEqual(loop.run_until_complete(aio.info())["pid"], pid1)
            env = sync.open(["Demo.Main"])["env"]
            d.stop()
            with self.assertRaises(ec.Unavailable):
                ec.Client(SOCK).info()
            with self.assertRaises((ec.ConnectionLost, ec.Unavailable)):
                sync.info()
            d = Daemon()
            # Both clients connect again by themselves; the old handle is gone with the old daemon.
            pid2 = sync.info()["pid"]
            self.assertNotEqual(pid1, pid2)
            self.assertEqual(loop.run_until_complete(aio.info())["pid"], pid2)
            with self.assertRaises(ec.UnknownEnv):
                sync.get("Nat.add", env=env)
            # And once more without a call in between: the stale connection is replaced silently.
            d.stop()
            d = Daemon()
            self.assertNotEqual(sync.info()["pid"], pid2)
            self.assertNotEqual(loop.run_until_complete(aio.info())["pid"], pid2)
        finally:
            sync.disconnect()
            loop.run_until_complete(aio.disconnect())
            loop.close()
            d.stop()


class TestDiscovery(unittest.TestCase):
    def test_default_socket(self):
        saved = {k: os.environ.get(k) for k in ("ENVPOOL_SOCKET", "XDG_RUNTIME_DIR")}
        try:
            os.environ["ENVPOOL_SOCKET"] = "/x/y.sock"
            self.assertEqual(ec.default_socket(), "/x/y.sock")
            del os.environ["ENVPOOL_SOCKET"]
            xdg = os.path.join(TMP, "xdg")
            os.makedirs(xdg, exist_ok=True)
            os.environ["XDG_RUNTIME_DIR"] = xdg
            open(os.path.join(xdg, "envpool.sock"), "w").close()
            want = os.path.join(xdg, "envpool.sock") if os.geteuid() != 0 else "/run/envpool/envpool.sock"
            self.assertEqual(ec.default_socket(), want)
            os.unlink(os.path.join(xdg, "envpool.sock"))
            self.assertEqual(ec.default_socket(), "/run/envpool/envpool.sock")
            self.assertEqual(ec.Client().socket_path, "/run/envpool/envpool.sock")
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


if __name__ == "__main__":
    unittest.main(verbosity=2)
