#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test.sh: the one command that runs every test: installs what is missing (apt), configures a
# fresh build in build/ci with warnings as errors, builds with 2 jobs and runs every ctest tier
# (unit, black-box with a private PostgreSQL, end-to-end).  Exits non-zero when anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=build/ci

./scripts/deps.sh
rm -rf "$BUILD"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBEAMTEL_WERROR=ON -DBEAMTEL_TESTS=ON
cmake --build "$BUILD" -j 2
(cd "$BUILD" && ctest --output-on-failure -j 2 "$@")

# The same unit, black-box and TUI suites once more with AddressSanitizer and UBSan (STYLE.md
# §16), minus the three that measure timing or memory under load (ASan slows and bloats them).
# BEAMTEL_SANITIZE_TESTS=0 skips this tier.
if [ "${BEAMTEL_SANITIZE_TESTS:-1}" != 0 ] && [ $# -eq 0 ]; then
    ASAN=build/asan
    rm -rf "$ASAN"
    cmake -S . -B "$ASAN" -DCMAKE_BUILD_TYPE=Debug -DBEAMTEL_SANITIZE=ON -DBEAMTEL_WERROR=ON
    cmake --build "$ASAN" -j 2
    (cd "$ASAN" && ctest --output-on-failure -j 2 -L "unit|blackbox|tui" \
        -E "outage|slow_client|same_port|style|packaging")
fi
