# SPDX-License-Identifier: MIT
# The man page test (LABELS unit): mandoc -Tlint clean, and every option, key, variable,
# subcommand and exit status of the option table and enum bt_exit present in the pages.
if(NOT TARGET beamtel_optdump)
  add_executable(beamtel_optdump ${CMAKE_SOURCE_DIR}/packaging/optdump.c)
  target_link_libraries(beamtel_optdump PRIVATE bt_config)
endif()
add_test(NAME man.pages
  COMMAND bash ${CMAKE_SOURCE_DIR}/tests/man/test_man.sh $<TARGET_FILE:beamtel_optdump>
          ${CMAKE_SOURCE_DIR})
set_tests_properties(man.pages PROPERTIES LABELS unit TIMEOUT 60)
