#!/bin/sh
# The envpool client against a fake daemon whose replies have the wrong
# shapes (bytes from a socket are hostile to the client too): a level
# parameter that is not a string prints as "?", and a reply id at the edge of
# the integer range in a batch reply must not overflow while ids are restored
# (the sanitizer build turns that overflow into a failure).
set -u
BUILD=${ENVPOOL_BUILD:-$(pwd)/build}
. "$(dirname "$0")/lib/common.sh"
SPID=
cleanup_hook() {
    if [ -n "$SPID" ] && kill -0 "$SPID" 2>/dev/null; then kill "$SPID"; wait "$SPID"; fi 2>/dev/null
}
fail() { echo "FAIL: $*" >&2; exit 1; }

# One connection per reply: reads the request line, answers with the reply for
# it (the request's id substituted for ID), then closes.
python3 - "$TMP/s" >"$TMP/server.log" 2>&1 <<'PY' &
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(2)
s.settimeout(20)
replies = [
    '{"jsonrpc":"2.0","id":ID,"result":{"kind":"def","name":"x","level_params":[1,null,"u"],"type":"T"}}',
    '[{"jsonrpc":"2.0","id":ID,"result":1},{"jsonrpc":"2.0","id":-9223372036854775808,"result":2}]',
]
for reply in replies:
    c, _ = s.accept()
    f = c.makefile("rb")
    req = json.loads(f.readline())
    c.sendall(reply.replace("ID", json.dumps(req["id"])).encode() + b"\n")
    f.close()
    c.close()
PY
SPID=$!
i=0
while [ ! -S "$TMP/s" ]; do
    i=$((i + 1)); [ $i -gt 100 ] && fail "fake daemon did not start"; sleep 0.05
done

out=$(timeout 20 "$BUILD/envpool" get --socket "$TMP/s" --imports A x 2>&1)
st=$?
[ $st -eq 0 ] || fail "get: exit status $st: $out"
echo "$out" | grep -q '^def x\.{?, ?, u} : T$' || fail "get printed: $out"

out=$(echo '{"jsonrpc":"2.0","id":"a","method":"server.info"}' |
      timeout 20 "$BUILD/envpool" batch --socket "$TMP/s" 2>&1)
st=$?
[ $st -lt 2 ] || fail "batch: exit status $st: $out"
echo "$out" | grep -q '"id":"a"' || fail "batch printed: $out"
echo "client_hostile: ok"
