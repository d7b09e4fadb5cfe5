#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_unit.sh: packaging/systemd/beamtel.service passes `systemd-analyze verify` without a single
# message, runs beamtel serve as the user beamtel with the documented hardening, and keeps its
# `systemd-analyze security` exposure at or below MAX_EXPOSURE.  systemd checks that ExecStart's
# binary exists, so the unit is verified inside a throwaway root that holds the unit, the built
# binary at /usr/bin/beamtel, /bin/kill and the host's own units (sysinit.target ...).
#
#   tests/packaging/test_unit.sh SOURCE_DIR BEAMTEL_BINARY
set -uo pipefail

src=${1:?usage: test_unit.sh SOURCE_DIR BEAMTEL_BINARY}
bin=${2:?}
unit=$src/packaging/systemd/beamtel.service
MAX_EXPOSURE=2.0
failures=0
checks=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}
pass() { checks=$((checks + 1)); }

if ! command -v systemd-analyze >/dev/null; then
    echo "SKIP: systemd-analyze is not installed (Debian package systemd)"
    exit 77
fi

# ---- the unit says what the docs say ----
for line in "Type=simple" "User=beamtel" "Group=beamtel" \
    "ExecStart=/usr/bin/beamtel serve -c /etc/beamtel/beamtel.conf" \
    'ExecReload=/bin/kill -HUP $MAINPID' "Restart=on-failure" "StateDirectory=beamtel" \
    "ConfigurationDirectory=beamtel" "NoNewPrivileges=yes" "ProtectSystem=strict" \
    "ProtectHome=yes" "PrivateTmp=yes" "PrivateDevices=yes" "CapabilityBoundingSet=" \
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6" "SystemCallFilter=@system-service" \
    "WantedBy=multi-user.target"; do
    if grep -qxF -- "$line" "$unit"; then pass; else fail "the unit lacks \"$line\""; fi
done

# ---- verify in a throwaway root ----
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
mkdir -p "$root/lib/systemd/system" "$root/usr/bin" "$root/bin" "$root/etc/beamtel"
cp -a /lib/systemd/system/. "$root/lib/systemd/system/" 2>/dev/null
cp "$unit" "$root/lib/systemd/system/beamtel.service"
cp "$bin" "$root/usr/bin/beamtel"
cp "$(type -P kill)" "$root/bin/kill"
cp "$src/packaging/beamtel.conf" "$root/etc/beamtel/beamtel.conf"

out=$(systemd-analyze verify --man=no --root="$root" beamtel.service 2>&1)
rc=$?
if [[ $rc -eq 0 && -z $out ]]; then
    pass
else
    fail "systemd-analyze verify (exit $rc):"
    printf '%s\n' "$out"
fi

# The verify must be able to fail: a unit with an unknown key is reported.
sed 's/^Restart=on-failure$/Restart=on-failure\nNoSuchKey=1/' "$unit" >"$root/lib/systemd/system/beamtel.service"
out=$(systemd-analyze verify --man=no --root="$root" beamtel.service 2>&1)
if grep -q "NoSuchKey" <<<"$out"; then pass; else fail "verify did not notice an unknown key"; fi
cp "$unit" "$root/lib/systemd/system/beamtel.service"

# ---- exposure ----
out=$(systemd-analyze security --offline=yes --root="$root" --no-pager beamtel.service 2>&1)
exposure=$(sed -n 's/.*Overall exposure level for beamtel.service: \([0-9.]*\).*/\1/p' <<<"$out")
if [[ -z $exposure ]]; then
    fail "no exposure level from systemd-analyze security:"
    printf '%s\n' "$out"
elif awk -v e="$exposure" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(e <= m) }'; then
    echo "systemd-analyze security: exposure $exposure (at most $MAX_EXPOSURE)"
    pass
else
    fail "exposure $exposure is above $MAX_EXPOSURE:"
    grep '✗' <<<"$out"
fi

# ---- the system user ----
if command -v systemd-sysusers >/dev/null; then
    mkdir -p "$tmp/sysroot/etc"
    out=$(systemd-sysusers --root="$tmp/sysroot" --dry-run "$src/packaging/systemd/beamtel.sysusers" 2>&1)
    if grep -q "Creating user 'beamtel'" <<<"$out"; then pass; else fail "sysusers.d: $out"; fi
fi

echo "$checks passed, $failures failed"
[[ $failures -eq 0 ]]
