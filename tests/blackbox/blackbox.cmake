# SPDX-License-Identifier: MIT
# Black-box tier: the real beamtel binary against a real private PostgreSQL (scripts/pg-private)
# over real UDP on 127.0.0.1.  Included from tests/CMakeLists.txt.  Tests that need the real
# captures skip themselves when ../shared/data is absent.
# Debian's python3 (stdlib only) first, whatever else is on PATH.
find_program(BEAMTEL_PYTHON3 python3 PATHS /usr/bin NO_DEFAULT_PATH)
find_program(BEAMTEL_PYTHON3 python3 REQUIRED)

set(BEAMTEL_BLACKBOX_ENV
  "BEAMTEL_BIN=$<TARGET_FILE:beamtel>"
  "BEAMTEL_SHARED_DATA=${CMAKE_SOURCE_DIR}/../shared/data"
  "BEAMTEL_SOURCE_DIR=${CMAKE_SOURCE_DIR}"
  "PYTHONDONTWRITEBYTECODE=1")

# name, timeout (seconds): the outage test replays a 51 s drive at 1× with a 30 s outage.
# Identity and live stream (issue 3): auth_api ≈ 5 s, ws ≈ 25 s, isolation ≈ 10 s,
# same_port ≈ 12 s, static ≈ 3 s, slow_client ≈ 25 s, fumbletron ≈ 6 s.
foreach(spec IN ITEMS "import;180" "rules;180" "serve;120" "outage;240"
                      "auth_api;90" "ws;120" "isolation;120" "same_port;120" "static;90"
                      "slow_client;120" "fumbletron;90")
  list(GET spec 0 name)
  list(GET spec 1 timeout)
  add_test(NAME blackbox.${name}
    COMMAND ${BEAMTEL_PYTHON3} ${CMAKE_SOURCE_DIR}/tests/blackbox/test_${name}.py)
  set_tests_properties(blackbox.${name} PROPERTIES
    ENVIRONMENT "${BEAMTEL_BLACKBOX_ENV}"
    LABELS blackbox
    TIMEOUT ${timeout})
endforeach()
