#!/bin/sh
# envpoold --validate: lazy (default) and eager over a real socket. A file with
# trailing garbage and a file with one damaged string inside a constant's type:
# eagerly both are refused at env.open (-32002 with path, offset, reason);
# lazily both open, every undamaged constant answers, and decl.get of the
# damaged constant answers -32002 naming the object's offset. A bad mode is a
# usage error.
. "$(dirname "$0")/lib/daemon.sh"

E=$BUILD/envpool
LIBDIR=$TMP/lib
mkdir -p "$LIBDIR" "$TMP/src"
cat >"$TMP/src/V.txt" <<'M'
module V
axiom V.ok : Prop
axiom V.bad : ∀ (zzzmarker : Prop), zzzmarker
M
"$E" pack "$TMP/src/V.txt" -o "$LIBDIR" 2>/dev/null || fail "pack"
cp "$LIBDIR/V.olean" "$LIBDIR/Tail.olean"
printf 'trailing garbage' >> "$LIBDIR/Tail.olean"
# The binder name's string: its NUL terminator becomes 'x'.
off=$(python3 - "$LIBDIR/V.olean" <<'PY'
import sys
b = open(sys.argv[1], "rb").read()
i = b.find(b"zzzmarker\0")
assert i > 0 and b.find(b"zzzmarker\0", i + 1) < 0, "marker not found once"
print(i + 9)
PY
) || fail "marker"
printf 'x' | dd of="$LIBDIR/V.olean" bs=1 seek="$off" conv=notrunc 2>/dev/null

if "$BUILD/envpoold" --socket "$SOCK" --search-path "$LIBDIR" --validate bogus 2>"$TMP/err"; then
    fail "--validate bogus was accepted"
fi
grep -q "validate" "$TMP/err" || fail "no message for --validate bogus"

check() {
    py - "$SOCK" "$1" "$off" <<'PY' || fail "validate $1"
import sys
from rpc import Conn, error_code
path, mode, off = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = Conn(path)
for mod in ("V", "Tail"):
    r = c.call("env.open", {"imports": [mod]})
    if mode == "eager":
        assert error_code(r) == -32002, r
        d = r["error"]["data"]
        assert d["path"].endswith(mod + ".olean") and d["reason"], d
        if mod == "V":
            assert d["offset"] == off and "NUL" in d["reason"], (d, off)
        else:  # the garbage, read as one more object
            assert d["offset"] is not None and d["offset"] > off, d
        continue
    env = r["result"]["env"]
    ok = c.call("decl.get", {"env": env, "name": "V.ok"})["result"]
    assert ok["type"] == "Prop", ok
    bad = c.call("decl.get", {"env": env, "name": "V.bad"})
    if mod == "V":
        assert error_code(bad) == -32002, bad
        d = bad["error"]["data"]
        assert d["offset"] is not None and 0 < d["offset"] <= off and "NUL" in d["reason"], d
    else:
        assert bad["result"]["type"].startswith("∀"), bad
    s = c.call("decl.search", {"env": env, "query": "V.", "mode": "prefix"})["result"]
    assert sorted(i["name"] for i in s["items"]) == ["V.bad", "V.ok"], s
    c.call("env.close", {"env": env})
# the daemon keeps serving
assert "result" in c.call("server.info")
PY
}

start_daemon --search-path "$LIBDIR"
grep -q "validate=lazy" "$TMP/daemon.log" || fail "summary does not say validate=lazy"
check lazy
stop_daemon
start_daemon --search-path "$LIBDIR" --validate eager
grep -q "validate=eager" "$TMP/daemon.log" || fail "summary does not say validate=eager"
check eager
stop_daemon
echo "validate: ok"
