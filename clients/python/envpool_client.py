"""envpool_client — a Python client for envpoold (stdlib only, Python >= 3.9).

envpoold keeps Lean 4 environments warm and answers JSON-RPC 2.0 over a Unix
socket, one JSON text per line (docs/protocol.md). This module speaks that
protocol so that batch and AI pipelines need not hand-roll framing, ids and
errors:

* :class:`Client` — synchronous, one request at a time, plus :meth:`Client.map`
  for many requests pipelined over one connection.
* :class:`AsyncClient` — asyncio; any number of requests in flight on one
  connection, replies matched to requests by id. Cancelling the awaiting task
  sends ``$/cancelRequest`` to the daemon.

Errors from the daemon are raised as :class:`RpcError` subclasses carrying
``code``, ``message`` and ``data`` (:class:`DeclNotFound` for -32004, and so
on; see :data:`ERRORS`). A connection that breaks (the daemon restarted)
fails the requests in flight on it with :class:`ConnectionLost`; the next
request connects again. Environment handles (``env``) belong to a connection
and do not survive a reconnect.

The socket is found as the ``envpool`` CLI finds it (:func:`default_socket`):
the ``socket`` argument, else ``$ENVPOOL_SOCKET``, else
``$XDG_RUNTIME_DIR/envpool.sock`` when it exists (not as root), else
``/run/envpool/envpool.sock``.

Example::

    from envpool_client import Client
    with Client() as c:
        print(c.get("Nat.add_comm", imports=["Init"])["type"])
"""

import asyncio
import itertools
import json
import os
import socket
import threading
import time

__all__ = [
    "default_socket", "Client", "AsyncClient", "EnvpoolError", "Unavailable", "ConnectionLost",
    "RpcError", "ParseError", "InvalidRequest", "MethodNotFound", "InvalidParams", "InternalError",
    "RequestCancelled", "RequestTimeout", "ModuleNotFound", "CorruptRegion", "UnsupportedFormat",
    "DeclNotFound", "UnknownEnv", "Busy", "Stale", "ERRORS",
]

#: Longest reply line accepted (envpoold's replies are far smaller; this bounds memory).
MAX_LINE = 64 * 1024 * 1024


def default_socket():
    """The daemon's socket path, found the way the ``envpool`` CLI finds it."""
    env = os.environ.get("ENVPOOL_SOCKET")
    if env:
        return env
    run = os.environ.get("XDG_RUNTIME_DIR")
    if run and os.geteuid() != 0:
        path = os.path.join(run, "envpool.sock")
        if os.path.exists(path):
            return path
    return "/run/envpool/envpool.sock"


# ---- errors ------------------------------------------------------------------

class EnvpoolError(Exception):
    """Base class of everything this module raises."""


class Unavailable(EnvpoolError, ConnectionError):
    """No daemon answers on the socket (absent, refused, or permission denied)."""


class ConnectionLost(EnvpoolError, ConnectionError):
    """The connection broke while a request was in flight; its answer is unknown."""


class RpcError(EnvpoolError):
    """An error reply: ``code``, ``message`` and ``data`` (None or a JSON value) as the daemon sent them."""

    def __init__(self, code, message, data=None):
        super().__init__("%s (%d)" % (message, code))
        self.code = code
        self.message = message
        self.data = data


class ParseError(RpcError):
    """-32700: the daemon could not parse what was sent."""


class InvalidRequest(RpcError):
    """-32600: not a valid JSON-RPC request (or a frame over --max-frame)."""


class MethodNotFound(RpcError):
    """-32601: no such method."""


class InvalidParams(RpcError):
    """-32602: a parameter is missing, unknown or of the wrong type; ``data`` names it."""


class InternalError(RpcError):
    """-32603: the daemon failed internally."""


class RequestCancelled(RpcError):
    """-32800: the request was cancelled ($/cancelRequest)."""


class RequestTimeout(RequestCancelled, TimeoutError):
    """A :class:`Client` call ran past its timeout and was cancelled on the daemon."""


class ModuleNotFound(RpcError):
    """-32001: a module of the import list resolves nowhere; ``data``: module, imported_by."""


class CorruptRegion(RpcError):
    """-32002: a module file is corrupt (or an import cycle); ``data``: path, offset, reason, module."""


class UnsupportedFormat(RpcError):
    """-32003: a module file of a format envpool does not read."""


class DeclNotFound(RpcError):
    """-32004: no declaration of that name; ``data['suggestions']`` lists close names."""


class UnknownEnv(RpcError):
    """-32005: the ``env`` handle is not open on this connection."""


class Busy(RpcError):
    """-32006: a limit was reached; ``data['retry_after_ms']`` says when to try again."""


class Stale(RpcError):
    """-32007: a module file changed or vanished while it was read."""


#: Error code -> exception class.
ERRORS = {
    -32700: ParseError, -32600: InvalidRequest, -32601: MethodNotFound, -32602: InvalidParams,
    -32603: InternalError, -32800: RequestCancelled, -32001: ModuleNotFound, -32002: CorruptRegion,
    -32003: UnsupportedFormat, -32004: DeclNotFound, -32005: UnknownEnv, -32006: Busy, -32007: Stale,
}


def _error(err):
    if not isinstance(err, dict):
        return InternalError(-32603, "malformed error reply: %r" % (err,))
    code = err.get("code")
    cls = ERRORS.get(code, RpcError)
    return cls(code if isinstance(code, int) else -32603, str(err.get("message", "")), err.get("data"))


def _env_params(env, imports, extra):
    """Parameters of a method taking exactly one of ``env`` or ``imports``."""
    if (env is None) == (imports is None):
        raise ValueError("give exactly one of env= (a handle from open) or imports= (a list of module names)")
    p = {"env": env} if env is not None else {"imports": list(imports)}
    p.update({k: v for k, v in extra.items() if v is not None})
    return p


def _encode(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


class _Methods:
    """The named methods, written once over ``call`` (sync) or a coroutine ``call`` (async)."""

    def info(self):
        """``server.info``: name, version, protocol version, formats, search path, pid, uptime, methods."""
        return self.call("server.info")

    def open(self, imports, partial=False):
        """``env.open``: acquires the environment of ``imports`` (module names, order kept).

        Returns the result: ``env`` (a handle for this connection), ``key``, ``hit``,
        ``modules``, ``constants``, ``load_ms`` (and ``missing`` with ``partial=True``).
        """
        p = {"imports": list(imports)}
        if partial:
            p["partial"] = True
        return self.call("env.open", p)

    def close(self, env):
        """``env.close``: releases a handle; returns ``{"kept": bool}``."""
        return self.call("env.close", {"env": env})

    def get(self, name, env=None, imports=None, value=None):
        """``decl.get``: the declaration ``name`` (kind, module, level_params, printed type, kind fields;
        the printed value too with ``value=True``). Raises :class:`DeclNotFound` with suggestions."""
        return self.call("decl.get", _env_params(env, imports, {"name": name, "value": value}))

    def search(self, query, env=None, imports=None, mode=None, kinds=None, limit=None, cursor=None):
        """``decl.search``: names matching ``query`` (``mode``: prefix, substring, fuzzy);
        returns ``{"items": [...], "next_cursor": str|None}``."""
        return self.call("decl.search", _env_params(env, imports, {
            "query": query, "mode": mode, "kinds": kinds, "limit": limit, "cursor": cursor}))

    def modules(self, env=None, imports=None):
        """``module.list``: the modules of the environment in import order."""
        return self.call("module.list", _env_params(env, imports, {}))

    def stats(self, format=None):
        """``pool.stats``: counters as a dict, or ``{"content_type", "text"}`` with ``format="prometheus"``."""
        return self.call("pool.stats", {"format": format} if format else None)

    def drain(self):
        """``pool.drain``: drops every idle environment; returns ``{"drained": n}``."""
        return self.call("pool.drain")


# ---- synchronous -------------------------------------------------------------

class Client(_Methods):
    """A blocking client on one Unix-socket connection (made on first use, remade after a break).

    ``timeout`` (seconds, None = wait forever) bounds each call; a call that runs
    past it is cancelled on the daemon (``$/cancelRequest``) and raises
    :class:`RequestTimeout`. ``on_notification(method, params)`` receives
    ``$/progress`` and other notifications. One thread at a time: the client
    holds a lock around each call.
    """

    def __init__(self, socket_path=None, timeout=None, on_notification=None):
        self.socket_path = socket_path or default_socket()
        self.timeout = timeout
        self.on_notification = on_notification
        self._sock = None
        self._buf = bytearray()
        self._ids = itertools.count(1)
        self._early = {}  # replies that arrived for ids we are not waiting for yet (map)
        self._lock = threading.RLock()

    # -- connection --
    def connect(self):
        """Connects now (calls connect by themselves). Raises :class:`Unavailable`."""
        with self._lock:
            if self._sock is None:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    s.connect(self.socket_path)
                except OSError as e:
                    s.close()
                    raise Unavailable("no envpoold at %s: %s" % (self.socket_path, e.strerror or e)) from e
                self._sock = s
                self._buf = bytearray()
                self._early = {}
            return self

    def disconnect(self):
        """Closes the connection (handles opened on it are released by the daemon)."""
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.disconnect()

    def _broken(self, why):
        self.disconnect()
        return ConnectionLost("connection to %s lost: %s" % (self.socket_path, why))

    def _send(self, data):
        try:
            self._sock.settimeout(None)  # a read's deadline must not cut a write in half
            self._sock.sendall(data)
        except OSError as e:
            raise self._broken(e) from e

    def _read_message(self, deadline):
        """Next message from the daemon; socket.timeout past the deadline (monotonic seconds or None)."""
        while True:
            nl = self._buf.find(b"\n")
            if nl >= 0:
                line = bytes(self._buf[:nl])
                del self._buf[:nl + 1]
                if not line.strip():
                    continue
                try:
                    return json.loads(line)
                except ValueError as e:
                    raise self._broken("unparseable reply") from e
            if len(self._buf) > MAX_LINE:
                raise self._broken("reply line longer than %d bytes" % MAX_LINE)
            left = None if deadline is None else max(deadline - time.monotonic(), 0)
            if left == 0:
                raise socket.timeout()
            self._sock.settimeout(left)
            try:
                chunk = self._sock.recv(1 << 20)
            except socket.timeout:
                raise
            except OSError as e:
                raise self._broken(e) from e
            if not chunk:
                raise self._broken("the daemon closed the connection")
            self._buf += chunk

    def _await(self, rid, deadline):
        """Reads until the reply for rid; stores others in _early."""
        if rid in self._early:
            return self._early.pop(rid)
        while True:
            m = self._read_message(deadline)
            if isinstance(m, dict) and "method" in m and "id" not in m:
                if self.on_notification:
                    self.on_notification(m["method"], m.get("params"))
                continue
            mid = m.get("id") if isinstance(m, dict) else None
            if mid == rid:
                return m
            if mid is None:
                # An error the daemon could not tie to a request (a frame over --max-frame):
                # it closes the connection after it.
                err = _error(m.get("error") if isinstance(m, dict) else None)
                self.disconnect()
                raise err
            self._early[mid] = m

    @staticmethod
    def _result(m):
        if "error" in m:
            raise _error(m["error"])
        return m.get("result")

    def call(self, method, params=None, timeout=None):
        """Sends one request and returns its ``result`` (or raises its error).

        ``timeout`` overrides the client's. A stale connection (the daemon
        restarted while it sat idle) is replaced once, transparently.
        """
        timeout = self.timeout if timeout is None else timeout
        with self._lock:
            for attempt in (0, 1):
                fresh = self._sock is None
                self.connect()
                rid = next(self._ids)
                req = {"jsonrpc": "2.0", "id": rid, "method": method}
                if params is not None:
                    req["params"] = params
                deadline = None if timeout is None else time.monotonic() + timeout
                try:
                    self._send(_encode(req))
                    m = self._await(rid, deadline)
                except ConnectionLost:
                    if fresh or attempt:
                        raise
                    continue  # the old connection was dead before we used it: retry once on a new one
                except socket.timeout:
                    self._send(_encode({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": rid}}))
                    try:
                        self._await(rid, time.monotonic() + 30)
                    except socket.timeout:
                        self.disconnect()
                    raise RequestTimeout(-32800, "%s timed out after %.3f s and was cancelled" % (method, timeout))
                return self._result(m)

    def notify(self, method, params=None):
        """Sends a notification (no reply)."""
        with self._lock:
            self.connect()
            req = {"jsonrpc": "2.0", "method": method}
            if params is not None:
                req["params"] = params
            self._send(_encode(req))

    def map(self, method, params_list, window=64, return_exceptions=False):
        """Runs ``method`` once per params dict, pipelined (at most ``window`` in flight).

        Returns the results in input order; an error reply raises at once, or,
        with ``return_exceptions=True``, takes its place in the list as an
        :class:`RpcError`.
        """
        with self._lock:
            self.connect()
            params_list = list(params_list)
            ids = [next(self._ids) for _ in params_list]
            out = [None] * len(ids)
            sent = done = 0
            while done < len(ids):
                while sent < len(ids) and sent - done < window:
                    self._send(_encode({"jsonrpc": "2.0", "id": ids[sent], "method": method,
                                        "params": params_list[sent]}))
                    sent += 1
                m = self._await(ids[done], None)
                if "error" in m:
                    e = _error(m["error"])
                    if not return_exceptions:
                        # Keep the connection in step: collect what is still in flight.
                        for rid in ids[done + 1:sent]:
                            self._await(rid, None)
                        raise e
                    out[done] = e
                else:
                    out[done] = m.get("result")
                done += 1
            return out


# ---- asyncio -------------------------------------------------------------------

class AsyncClient(_Methods):
    """An asyncio client: many requests in flight on one connection, replies matched by id.

    Every method is a coroutine. ``await asyncio.gather(*(c.get(n, env=h) for n in names))``
    pipelines them all. Cancelling a task that awaits a call sends
    ``$/cancelRequest`` for it (the daemon answers -32800 if it was still
    waiting, which is then dropped). ``on_notification(method, params)``
    receives ``$/progress``. A broken connection fails its calls with
    :class:`ConnectionLost`; the next call connects again.
    """

    def __init__(self, socket_path=None, on_notification=None):
        self.socket_path = socket_path or default_socket()
        self.on_notification = on_notification
        self._reader = self._writer = self._task = None
        self._pending = {}
        self._ids = itertools.count(1)
        self._connecting = None

    async def connect(self):
        """Connects now (calls connect by themselves). Raises :class:`Unavailable`."""
        if self._writer is not None:
            return self
        if self._connecting is None:
            self._connecting = asyncio.ensure_future(self._open())
        try:
            await asyncio.shield(self._connecting)
        finally:
            if self._connecting is not None and self._connecting.done():
                self._connecting = None
        return self

    async def _open(self):
        try:
            r, w = await asyncio.open_unix_connection(self.socket_path, limit=MAX_LINE)
        except OSError as e:
            raise Unavailable("no envpoold at %s: %s" % (self.socket_path, e.strerror or e)) from e
        self._reader, self._writer = r, w
        self._task = asyncio.ensure_future(self._read_loop(r, w))

    async def disconnect(self):
        """Closes the connection; calls in flight fail with :class:`ConnectionLost`."""
        w, t = self._writer, self._task
        self._fail_all(w, ConnectionLost("disconnected"))
        if w is not None:
            w.close()
            try:
                await w.wait_closed()
            except OSError:
                pass
        if t is not None:
            t.cancel()
            try:
                await t
            except (asyncio.CancelledError, Exception):
                pass

    async def __aenter__(self):
        return await self.connect()

    async def __aexit__(self, *exc):
        await self.disconnect()

    def _fail_all(self, writer, exc):
        if writer is not None and writer is self._writer:
            self._reader = self._writer = self._task = None
        for key in [k for k in self._pending if k[0] is writer]:
            fut = self._pending.pop(key)
            if not fut.done():
                fut.set_exception(exc)

    async def _read_loop(self, r, w):
        why = "the daemon closed the connection"
        try:
            while True:
                try:
                    line = await r.readline()
                except (asyncio.LimitOverrunError, ValueError):
                    why = "reply line longer than %d bytes" % MAX_LINE
                    break
                if not line:
                    break
                if not line.strip():
                    continue
                try:
                    m = json.loads(line)
                except ValueError:
                    why = "unparseable reply"
                    break
                if isinstance(m, dict) and "method" in m and "id" not in m:
                    if self.on_notification:
                        self.on_notification(m["method"], m.get("params"))
                    continue
                mid = m.get("id") if isinstance(m, dict) else None
                if mid is None:
                    err = _error(m.get("error") if isinstance(m, dict) else None)
                    self._fail_all(w, err)
                    continue
                fut = self._pending.pop((w, mid), None)
                if fut is not None and not fut.done():
                    fut.set_result(m)
        except OSError as e:
            why = str(e)
        except asyncio.CancelledError:
            why = "disconnected"
        self._fail_all(w, ConnectionLost("connection to %s lost: %s" % (self.socket_path, why)))
        if w is not None:
            w.close()

    async def call(self, method, params=None):
        """Sends one request and returns its ``result`` (or raises its error)."""
        for attempt in (0, 1):
            fresh = self._writer is None
            await self.connect()
            w = self._writer
            rid = next(self._ids)
            req = {"jsonrpc": "2.0", "id": rid, "method": method}
            if params is not None:
                req["params"] = params
            fut = asyncio.get_running_loop().create_future()
            self._pending[(w, rid)] = fut
            try:
                w.write(_encode(req))
                await w.drain()
                m = await fut
            except asyncio.CancelledError:
                self._pending.pop((w, rid), None)
                if w is self._writer and not w.is_closing():
                    w.write(_encode({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": rid}}))
                raise
            except (ConnectionLost, OSError) as e:
                self._pending.pop((w, rid), None)
                if w is self._writer:  # the reader may not have seen it yet: forget this connection now
                    self._fail_all(w, ConnectionLost("connection to %s lost: %s" % (self.socket_path, e)))
                    w.close()
                if fresh or attempt:
                    raise e if isinstance(e, ConnectionLost) else ConnectionLost(str(e))
                continue  # the connection died while idle (daemon restart): once more on a new one
            if "error" in m:
                raise _error(m["error"])
            return m.get("result")

    async def notify(self, method, params=None):
        """Sends a notification (no reply)."""
        await self.connect()
        req = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            req["params"] = params
        self._writer.write(_encode(req))
        await self._writer.drain()
