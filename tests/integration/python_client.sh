#!/bin/sh
# The Python client (clients/python/envpool_client.py) against the real daemon:
# every method, typed errors, 1,000 pipelined requests (asyncio and Client.map),
# cancellation ($/cancelRequest from a timeout and from task.cancel()), and
# reconnection after the daemon restarts. The test starts its own daemons.
. "$(dirname "$0")/lib/daemon.sh"
command -v python3 >/dev/null 2>&1 || skip "python3 is not installed"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 9))' || fail "python3 is older than 3.9"
ENVPOOL_BUILD=$BUILD ENVPOOL_TEST_DIR=$TMP timeout 500 python3 \
    "$(dirname "$0")/../../clients/python/test_envpool_client.py" 2>&1 || fail "python client tests"
