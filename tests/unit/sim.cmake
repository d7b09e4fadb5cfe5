# SPDX-License-Identifier: MIT
# Unit test of the synthetic driver (src/sim); included from tests/CMakeLists.txt.
add_executable(test_sim ${CMAKE_SOURCE_DIR}/tests/unit/test_sim.c)
target_link_libraries(test_sim bt_sim bt_ingest bt_common PkgConfig::CMOCKA m)
add_test(NAME unit.sim COMMAND test_sim)
set_tests_properties(unit.sim PROPERTIES LABELS unit)
