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
cd "$BUILD"
ctest --output-on-failure -j 2 "$@"
