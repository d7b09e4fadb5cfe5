# SPDX-License-Identifier: MIT
# Unit tests of the client module (URLs, times, the token file, HTTP error texts, connection
# failures); included from tests/CMakeLists.txt after CMOCKA is found and bt_client exists.
add_executable(test_client ${CMAKE_SOURCE_DIR}/tests/tui/test_client.c)
target_link_libraries(test_client PRIVATE bt_client bt_common PkgConfig::CMOCKA)
add_test(NAME unit.client COMMAND test_client)
set_tests_properties(unit.client PROPERTIES LABELS unit TIMEOUT 60)
