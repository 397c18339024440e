"""tests/integration/lib/rpc.py — a tiny JSON-RPC client for the daemon tests.

Raw sockets on purpose: the tests send malformed, oversized and split frames
that a proper client would never produce. Every blocking call has a timeout.
"""
import json
import socket

TIMEOUT = 60


class Conn:
    def __init__(self, path, lsp=False, timeout=TIMEOUT):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""
        self.lsp = lsp
        self.next_id = 1

    def close(self):
        self.s.close()

    def send_raw(self, data):
        self.s.sendall(data)

    def send(self, obj):
        body = json.dumps(obj).encode()
        if self.lsp:
            self.s.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        else:
            self.s.sendall(body + b"\n")

    def _fill(self):
        chunk = self.s.recv(65536)
        if not chunk:
            raise EOFError("connection closed by the daemon")
        self.buf += chunk

    def read(self):
        """Next message (parsed), in the connection's framing."""
        if self.lsp:
            while b"\r\n\r\n" not in self.buf:
                self._fill()
            head, self.buf = self.buf.split(b"\r\n\r\n", 1)
            n = int(head.split(b":", 1)[1])
            while len(self.buf) < n:
                self._fill()
            body, self.buf = self.buf[:n], self.buf[n:]
            return json.loads(body)
        while b"\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def read_reply(self):
        """Next message that is not a notification."""
        while True:
            m = self.read()
            if not (isinstance(m, dict) and "method" in m):
                return m

    def call(self, method, params=None):
        rid = self.next_id
        self.next_id += 1
        req = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            req["params"] = params
        self.send(req)
        m = self.read_reply()
        assert m.get("id") == rid, m
        return m

    def expect_eof(self):
        try:
            while True:
                chunk = self.s.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except ConnectionResetError:
            return True


def error_code(m):
    assert "error" in m, m
    return m["error"]["code"]


def metrics(port, host="127.0.0.1"):
    """GET /metrics from the daemon's HTTP listener: {name: value} of the unlabelled samples."""
    s = socket.create_connection((host, port), timeout=TIMEOUT)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    out = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#") and "{" not in line:
            name, value = line.split()
            out[name] = float(value)
    return out


def stats(path):
    c = Conn(path)
    r = c.call("pool.stats")
    c.close()
    assert "result" in r, r
    return r["result"]
