#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# deps.sh: installs, with apt, every Debian 12 package that building and testing beamtel needs.
# Idempotent and quiet: it runs `apt-get update` and `apt-get install` only when a package is
# missing, and says nothing when everything is already there.
set -euo pipefail

PACKAGES=(
    # build
    build-essential cmake pkg-config clang clang-format
    # libraries (DESIGN.md §1)
    libmicrohttpd-dev libwebsockets-dev libpq-dev libcjson-dev libjwt-dev libsodium-dev
    libncurses-dev libpcap-dev
    # tests: unit (cmocka), black-box (private PostgreSQL, python3), end-to-end (tmux,
    # chromium), man page lint (mandoc)
    libcmocka-dev postgresql-15 postgresql-client-15 python3 tmux mandoc chromium
    # process tools used by the scripts (ps, ss, useradd, runuser)
    procps iproute2 passwd util-linux
    # packaging tests: .deb dependencies (file), systemd-analyze, compose validation, the TLS
    # proxy example (openssl, nginx -t)
    file systemd docker-compose openssl nginx-light
)

missing=()
for p in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [[ "$status" == installed ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "deps.sh: missing packages: ${missing[*]}" >&2
        echo "deps.sh: run this script as root (or install sudo) to install them" >&2
        exit 1
    fi
else
    SUDO=()
fi

echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
echo "deps.sh: done"
