# SPDX-License-Identifier: MIT
# install.cmake: what `cmake --install` and the Debian package put where, and the CPack DEB
# settings.  Included once from the top-level CMakeLists.txt, after the beamtel target; the
# binary's own install() rule stays there.
#
#   /usr/bin/beamtel                          (top-level install(TARGETS))
#   /usr/share/beamtel/web/                   the built web app (web/dist), when it was built
#   /usr/share/beamtel/schema.sql             the schema that `beamtel db migrate` applies
#   /usr/share/man/man1/beamtel.1.gz, man5/beamtel.conf.5.gz
#   /etc/beamtel/beamtel.conf                 the sample: every key at its default (conffile)
#   /lib/systemd/system/beamtel.service       the hardened unit
#   /usr/lib/sysusers.d/beamtel.conf          the system user `beamtel`
#   /usr/share/doc/beamtel/                   copyright, README, CHANGELOG, docs, examples
#
# The configuration and the unit have absolute destinations: the binary reads
# /etc/beamtel/beamtel.conf whatever the prefix.  Build a package with
#   cmake -S . -B build/pkg -DCMAKE_BUILD_TYPE=Release -DBEAMTEL_TESTS=OFF
#   cmake --build build/pkg && (cd build/pkg && cpack -G DEB)
# after `cd web && npm ci && npm run build` if the package should carry the web app.
include(GNUInstallDirs)

set(BEAMTEL_WEB_DIST "${CMAKE_SOURCE_DIR}/web/dist" CACHE PATH
  "built web app installed under share/beamtel/web (skipped when it has no index.html)")
set(BEAMTEL_CONFDIR "/etc/beamtel" CACHE PATH "where the sample beamtel.conf is installed")
set(BEAMTEL_SYSTEMD_UNITDIR "/lib/systemd/system" CACHE PATH "where beamtel.service is installed")

# The option table dumper: the sample configuration and the man page test come from it.
if(NOT TARGET beamtel_optdump)
  add_executable(beamtel_optdump ${CMAKE_SOURCE_DIR}/packaging/optdump.c)
  target_link_libraries(beamtel_optdump PRIVATE bt_config)
endif()
# `cmake --build B --target sample-conf` rewrites packaging/beamtel.conf from the table.
add_custom_target(sample-conf
  COMMAND ${CMAKE_SOURCE_DIR}/packaging/gen-conf.sh $<TARGET_FILE:beamtel_optdump>
          ${CMAKE_SOURCE_DIR}/packaging/beamtel.conf
  DEPENDS beamtel_optdump VERBATIM)

# Man pages, compressed as Debian wants them (-n: no name or time stamp, reproducible).
find_program(GZIP_EXECUTABLE gzip REQUIRED)
set(_bt_man_gz)
foreach(page beamtel.1 beamtel.conf.5)
  add_custom_command(
    OUTPUT ${CMAKE_BINARY_DIR}/man/${page}.gz
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
    COMMAND sh -c "${GZIP_EXECUTABLE} -9n -c \"$1\" > \"$2\"" sh
            ${CMAKE_SOURCE_DIR}/man/${page} ${CMAKE_BINARY_DIR}/man/${page}.gz
    DEPENDS ${CMAKE_SOURCE_DIR}/man/${page} VERBATIM)
  list(APPEND _bt_man_gz ${CMAKE_BINARY_DIR}/man/${page}.gz)
endforeach()
add_custom_target(beamtel-man ALL DEPENDS ${_bt_man_gz})
install(FILES ${CMAKE_BINARY_DIR}/man/beamtel.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${CMAKE_BINARY_DIR}/man/beamtel.conf.5.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)

install(FILES ${CMAKE_SOURCE_DIR}/schema.sql DESTINATION ${CMAKE_INSTALL_DATADIR}/beamtel)
if(EXISTS ${BEAMTEL_WEB_DIST}/index.html)
  message(STATUS "beamtel: the package will carry the web app from ${BEAMTEL_WEB_DIST}")
else()
  message(STATUS "beamtel: ${BEAMTEL_WEB_DIST} is not built: the package will have no web app "
                 "(cd web && npm ci && npm run build, then configure again)")
endif()
# OPTIONAL, and checked again at install time: web/dist may be built after configuring.
install(DIRECTORY ${BEAMTEL_WEB_DIST}/ DESTINATION ${CMAKE_INSTALL_DATADIR}/beamtel/web OPTIONAL
  FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
  DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                        WORLD_READ WORLD_EXECUTE)

install(FILES ${CMAKE_SOURCE_DIR}/packaging/beamtel.conf DESTINATION ${BEAMTEL_CONFDIR}
  PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/systemd/beamtel.service
  DESTINATION ${BEAMTEL_SYSTEMD_UNITDIR})
install(FILES ${CMAKE_SOURCE_DIR}/packaging/systemd/beamtel.sysusers
  DESTINATION lib/sysusers.d RENAME beamtel.conf)

set(_bt_doc ${CMAKE_INSTALL_DATADIR}/doc/beamtel)
install(FILES ${CMAKE_SOURCE_DIR}/LICENSE DESTINATION ${_bt_doc} RENAME copyright)
foreach(f README.md CHANGELOG.md docs/ARCHITECTURE.md docs/OPERATIONS.md docs/PROTOCOL.md
          docs/FUMBLETRON.md)
  if(EXISTS ${CMAKE_SOURCE_DIR}/${f})
    install(FILES ${CMAKE_SOURCE_DIR}/${f} DESTINATION ${_bt_doc})
  endif()
endforeach()
install(FILES ${CMAKE_SOURCE_DIR}/packaging/nginx/beamtel.conf
  DESTINATION ${_bt_doc}/examples RENAME nginx-beamtel.conf)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/sysctl/60-beamtel.conf DESTINATION ${_bt_doc}/examples
  RENAME sysctl-60-beamtel.conf)
install(PROGRAMS ${CMAKE_SOURCE_DIR}/packaging/nginx/make-cert.sh DESTINATION ${_bt_doc}/examples)

# ---- CPack: the Debian package ----
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME beamtel)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "the beamtel authors")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "self-hosted telemetry for BeamNG.drive")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "the beamtel authors <beamtel@localhost>")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies come from dpkg-shlibdeps; useradd (passwd) is for the postinst.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "passwd")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "postgresql (>= 15)")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "nginx")
# The summary above is the synopsis line; CPack indents these lines and turns the empty one
# into the " ." paragraph break.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "beamtel receives the game's OutGauge and MotionSim UDP telemetry on one port,
shows it live in the terminal (ncurses) and in a browser, records every frame
into PostgreSQL as driving sessions, and reports each session's analytics.

This package contains the beamtel binary, the web dashboard, a hardened
systemd unit (not enabled on install), a sample configuration and the man
pages.")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${CMAKE_SOURCE_DIR}/packaging/debian/postinst
  ${CMAKE_SOURCE_DIR}/packaging/debian/prerm
  ${CMAKE_SOURCE_DIR}/packaging/debian/postrm
  ${CMAKE_SOURCE_DIR}/packaging/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
