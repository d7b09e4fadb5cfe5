#!/bin/sh
# SPDX-License-Identifier: MIT
# gen-conf.sh: writes the sample beamtel.conf that the Debian package installs as
# /etc/beamtel/beamtel.conf, from the option table (src/config/options.c) through the optdump
# helper that the build makes.  Every key appears commented out at its built-in default, except
# the few that the package sets (PACKAGE_SETTINGS below).  With --check it writes nothing and
# exits 1 when OUT differs from what the table gives (tests/packaging runs that).
#
#   packaging/gen-conf.sh [--check] OPTDUMP [OUT]      (OUT: packaging/beamtel.conf)
#   cmake --build build --target sample-conf          (the same, through the build)
set -eu

check=0
if [ "${1:-}" = --check ]; then
    check=1
    shift
fi
[ $# -ge 1 ] || { echo "usage: $0 [--check] OPTDUMP [OUT]" >&2; exit 2; }
optdump=$1
out=${2:-$(dirname "$0")/beamtel.conf}

# What the package changes from the built-in defaults, and why: the web app is installed there.
PACKAGE_SETTINGS="web-root=/usr/share/beamtel/web"

set --
for s in $PACKAGE_SETTINGS; do
    set -- "$@" --set "$s"
done

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
"$optdump" conf "$@" >"$tmp"

if [ $check -eq 1 ]; then
    if ! cmp -s "$tmp" "$out"; then
        echo "$out is out of date with src/config/options.c; run:" >&2
        echo "  cmake --build BUILD --target sample-conf" >&2
        diff -u "$out" "$tmp" >&2 || true
        exit 1
    fi
    exit 0
fi
cp "$tmp" "$out"
chmod 644 "$out"
