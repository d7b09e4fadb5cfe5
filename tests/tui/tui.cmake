# SPDX-License-Identifier: MIT
# The TUI's tests: unit tests of the model and renderer (no terminal), and the end-to-end tests
# that drive the real binary against a real serve and a private PostgreSQL — `beamtel login`,
# `beamtel stream` and `beamtel tui` in a detached tmux pane.  Included from tests/CMakeLists.txt.
add_executable(test_tui_render ${CMAKE_SOURCE_DIR}/tests/tui/test_render.c)
target_link_libraries(test_tui_render PRIVATE bt_tui bt_client bt_common PkgConfig::CMOCKA m)
add_test(NAME unit.tui_render COMMAND test_tui_render)
set_tests_properties(unit.tui_render PROPERTIES LABELS unit)

# Debian's python3 (stdlib only) first, whatever else is on PATH.
find_program(BEAMTEL_PYTHON3 python3 PATHS /usr/bin NO_DEFAULT_PATH)
find_program(BEAMTEL_PYTHON3 python3 REQUIRED)
foreach(spec IN ITEMS "login_stream;180" "tui;240")
  list(GET spec 0 name)
  list(GET spec 1 timeout)
  add_test(NAME e2e.${name}
    COMMAND ${BEAMTEL_PYTHON3} ${CMAKE_SOURCE_DIR}/tests/tui/test_${name}.py)
  set_tests_properties(e2e.${name} PROPERTIES
    ENVIRONMENT "BEAMTEL_BIN=$<TARGET_FILE:beamtel>;BEAMTEL_SOURCE_DIR=${CMAKE_SOURCE_DIR};PYTHONDONTWRITEBYTECODE=1"
    LABELS "e2e;tui"
    TIMEOUT ${timeout})
endforeach()
