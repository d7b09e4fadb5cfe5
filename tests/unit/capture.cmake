# SPDX-License-Identifier: MIT
# Unit tests of the capture module (pcap/pcapng/raw reader and pcap writer); included by
# tests/CMakeLists.txt after CMOCKA is found.  The real captures live outside the repository.
add_executable(test_capture ${CMAKE_SOURCE_DIR}/tests/unit/test_capture.c)
target_link_libraries(test_capture PRIVATE bt_capture PkgConfig::CMOCKA)
add_test(NAME unit.capture COMMAND test_capture)
set_tests_properties(unit.capture PROPERTIES
  ENVIRONMENT BEAMTEL_SHARED_DATA=${CMAKE_SOURCE_DIR}/../shared/data
  LABELS unit)
