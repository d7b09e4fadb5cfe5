# SPDX-License-Identifier: MIT
# Packaging tests (LABELS packaging): the sample configuration is in sync with the option table;
# the Debian package builds, unpacks and runs; the systemd unit passes systemd-analyze verify and
# its exposure stays low; compose.yaml validates.
if(NOT TARGET beamtel_optdump)
  add_executable(beamtel_optdump ${CMAKE_SOURCE_DIR}/packaging/optdump.c)
  target_link_libraries(beamtel_optdump PRIVATE bt_config)
endif()

add_test(NAME packaging.conf
  COMMAND sh ${CMAKE_SOURCE_DIR}/packaging/gen-conf.sh --check $<TARGET_FILE:beamtel_optdump>
          ${CMAKE_SOURCE_DIR}/packaging/beamtel.conf)
set_tests_properties(packaging.conf PROPERTIES LABELS packaging TIMEOUT 60)

# Builds the .deb with cpack from this build tree.  web_dist: the web tests rebuild web/dist,
# which this package copies.
add_test(NAME packaging.deb
  COMMAND bash ${CMAKE_SOURCE_DIR}/tests/packaging/test_deb.sh ${CMAKE_BINARY_DIR}
          ${CMAKE_SOURCE_DIR} ${PROJECT_VERSION})
set_tests_properties(packaging.deb PROPERTIES LABELS packaging TIMEOUT 600
  RESOURCE_LOCK web_dist SKIP_RETURN_CODE 77)

add_test(NAME packaging.systemd
  COMMAND bash ${CMAKE_SOURCE_DIR}/tests/packaging/test_unit.sh ${CMAKE_SOURCE_DIR}
          $<TARGET_FILE:beamtel>)
set_tests_properties(packaging.systemd PROPERTIES LABELS packaging TIMEOUT 120
  SKIP_RETURN_CODE 77)

add_test(NAME packaging.compose
  COMMAND bash ${CMAKE_SOURCE_DIR}/tests/packaging/test_compose.sh ${CMAKE_SOURCE_DIR}
          $<TARGET_FILE:beamtel>)
set_tests_properties(packaging.compose PROPERTIES LABELS packaging TIMEOUT 120
  SKIP_RETURN_CODE 77)
