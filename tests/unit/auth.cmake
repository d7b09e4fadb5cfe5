# SPDX-License-Identifier: MIT
# Unit tests of the auth module (passwords, JWT rules, secret file, limiter, Fumbletron);
# included from tests/CMakeLists.txt, which must define the bt_auth library target first.
add_executable(test_auth ${CMAKE_SOURCE_DIR}/tests/unit/test_auth.c)
target_link_libraries(test_auth bt_auth bt_common PkgConfig::CMOCKA)
add_test(NAME unit.auth COMMAND test_auth)
set_tests_properties(unit.auth PROPERTIES LABELS unit)
