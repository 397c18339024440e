# tests/integration/lib/common.sh — sourced first by every integration script
# (and tests/demo.sh): a private temporary directory, cleanup that never
# decides the exit status, skips the runner can count.
#
#   TMP            a fresh directory (mktemp), removed at exit
#   cleanup_hook   define it to stop helpers (daemons, fake servers) at exit;
#                  it runs with `set +e`, and whatever it returns, the
#                  script's exit status stays what the script's checks made it
#   skip WHY       ends the script as skipped (status 77, "SKIP: WHY")
#   need_samples   sets SAMPLES to ../shared/lean-samples ($ENVPOOL_SAMPLES);
#                  skips when it holds no .olean (fails under
#                  ENVPOOL_REQUIRE_SAMPLES=1)
#   http_port      the port of the daemon's HTTP listener, read from its log
#                  line in $TMP/daemon.log (--http-listen 127.0.0.1:0 picks a
#                  free one); waits up to 10 s for it, then calls fail
TMP=$(mktemp -d "${TMPDIR:-/tmp}/envpool-it.XXXXXX")

common_finish() {
    st=$?
    set +e
    trap - EXIT
    if command -v cleanup_hook >/dev/null 2>&1; then cleanup_hook; fi
    rm -rf "$TMP"
    exit "$st"
}
trap common_finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

skip() {
    echo "SKIP: $*"
    exit 77
}

need_samples() {
    SAMPLES=${ENVPOOL_SAMPLES:-../shared/lean-samples}
    if [ -d "$SAMPLES" ] && [ -n "$(find "$SAMPLES" -name '*.olean' -print 2>/dev/null | head -n 1)" ]; then
        return 0
    fi
    if [ "${ENVPOOL_REQUIRE_SAMPLES:-0}" = 1 ]; then
        echo "FAIL: samples absent at $SAMPLES, and ENVPOOL_REQUIRE_SAMPLES=1 requires them" >&2
        exit 1
    fi
    skip "samples absent at $SAMPLES"
}

http_port() {
    i=0
    while :; do
        p=$(sed -n 's/.*http: serving .* on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$TMP/daemon.log" | tail -n 1)
        [ -n "$p" ] && { echo "$p"; return; }
        i=$((i + 1)); [ $i -lt 100 ] || fail "no 'http: serving' line in the log"
        sleep 0.1
    done
}
