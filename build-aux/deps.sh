#!/bin/sh
# build-aux/deps.sh — are the build dependencies there? Run by `make demo`,
# `make check`, `make valgrind` and `make deps` before they build anything.
#
#   build-aux/deps.sh WHAT PACKAGE...
#
# WHAT is the make target, for the messages; PACKAGEs are Debian package
# names (the one list is DEB_PKGS in the Makefile). On Debian/Ubuntu, a missing
# package is installed when run as root (apt-get, non-interactive, one line
# saying what), else the script stops with one line naming the apt-get command.
# Elsewhere (no dpkg), the libraries are looked up with pkg-config
# ($DEPS_PKG_CONFIG_MODULES) and a missing one stops the build with one line.
# DEPS_QUIET=0 says so when nothing is missing (make deps).
set -u
what=$1
shift

if ! command -v dpkg-query >/dev/null 2>&1; then
    pc=${PKG_CONFIG:-pkg-config}
    missing=
    for m in ${DEPS_PKG_CONFIG_MODULES:-}; do
        "$pc" --exists "$m" 2>/dev/null || missing="$missing $m"
    done
    command -v "$pc" >/dev/null 2>&1 || missing=" pkg-config$missing"
    if [ -n "$missing" ]; then
        echo "envpool: make $what needs the development files of:$missing (not found with pkg-config); install them with your package manager" >&2
        exit 1
    fi
    exit 0
fi

# Installed packages among those asked for ("ii" = installed and configured).
installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "$@" 2>/dev/null | sed -n 's/^ii  *//p')
missing=
for p in "$@"; do
    case " $(echo $installed) " in
    *" $p "*) ;;
    *) missing="$missing $p" ;;
    esac
done
missing=${missing# }
if [ -z "$missing" ]; then
    [ "${DEPS_QUIET:-1}" = 1 ] || echo "envpool: all build dependencies are installed ($*)"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    sudo=
    command -v sudo >/dev/null 2>&1 && sudo="sudo "
    echo "envpool: make $what needs packages that are not installed; run: ${sudo}apt-get install -y $missing" >&2
    exit 1
fi

echo "envpool: make $what: installing $missing (apt-get install -y, non-interactive)"
log=$(mktemp "${TMPDIR:-/tmp}/envpool-deps.XXXXXX")
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086 # $missing is a list of package names
if apt-get update -qq >"$log" 2>&1 && apt-get install -y -qq $missing >>"$log" 2>&1; then
    rm -f "$log"
    exit 0
fi
tail -n 20 "$log" >&2
rm -f "$log"
echo "envpool: apt-get install -y $missing failed (its last lines are above)" >&2
exit 1
