# SPDX-License-Identifier: Apache-2.0
# What `cmake --install` puts where, and the .deb CPack builds from it (scripts/package.sh). Layout under the
# prefix: bin/, etc/rtcgate/ (/etc/rtcgate when the prefix is /usr), lib/systemd/system/, share/doc/rtcgate/,
# share/rtcgate/www/. Nothing test-related: the test and benchmark targets have no install rules.

# bin/rtcgate: src/CMakeLists.txt. The CLI of the admin API arrives as a second binary (issue 13).
if(TARGET rtcgatectl)
  install(TARGETS rtcgatectl RUNTIME DESTINATION bin)
endif()

# The config and the unit are placed at install time, when the prefix (`cmake --install --prefix P`, or the
# package's /usr) is known: the unit's ExecStart names the installed binary and config, and a prefix of /usr puts
# the config in /etc as GNU and Debian do. An existing config is kept (the .deb's conffile handling does the same
# on upgrades, asking before it replaces an edited file).
install(CODE "set(RTCGATE_SOURCE_DIR \"${PROJECT_SOURCE_DIR}\")\nset(RTCGATE_BINARY_DIR \"${PROJECT_BINARY_DIR}\")")
install(CODE [[
  if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    set(RTCGATE_CONFDIR "/etc/rtcgate")
  else()
    set(RTCGATE_CONFDIR "${CMAKE_INSTALL_PREFIX}/etc/rtcgate")
  endif()
  set(RTCGATE_BINDIR "${CMAKE_INSTALL_PREFIX}/bin")
  set(RTCGATE_DOCDIR "${CMAKE_INSTALL_PREFIX}/share/doc/rtcgate")
  if(EXISTS "$ENV{DESTDIR}${RTCGATE_CONFDIR}/rtcgate.yaml")
    message(STATUS "Keeping: $ENV{DESTDIR}${RTCGATE_CONFDIR}/rtcgate.yaml (the new default is in ${RTCGATE_DOCDIR})")
  else()
    file(INSTALL "${RTCGATE_SOURCE_DIR}/config/rtcgate.yaml" DESTINATION "${RTCGATE_CONFDIR}")
  endif()
  # One scratch directory per destination: installs into different prefixes may run at once (ctest -j).
  string(MD5 RTCGATE_DEST_HASH "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}")
  set(RTCGATE_UNIT "${RTCGATE_BINARY_DIR}/install/${RTCGATE_DEST_HASH}/rtcgate.service")
  configure_file("${RTCGATE_SOURCE_DIR}/config/rtcgate.service.in" "${RTCGATE_UNIT}" @ONLY)
  file(INSTALL "${RTCGATE_UNIT}" DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
]])

file(GLOB RTCGATE_DOCS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES README.md CHANGELOG.md LICENSE config/rtcgate.yaml ${RTCGATE_DOCS} DESTINATION share/doc/rtcgate)

# The softphone page and the client module it imports, as one bundled ES module (JsSIP inside; built by
# scripts/build-client.sh with esbuild from tests/js/node_modules). rtcgate serves the directory on its WSS
# listener; without esbuild the page would not load, so neither is installed.
find_program(RTCGATE_NODE node)
if(RTCGATE_NODE AND EXISTS ${PROJECT_SOURCE_DIR}/tests/js/node_modules/esbuild)
  set(RTCGATE_CLIENT_BUNDLE ${PROJECT_BINARY_DIR}/client/rtcgate-client.js)
  add_custom_command(OUTPUT ${RTCGATE_CLIENT_BUNDLE}
    COMMAND ${PROJECT_SOURCE_DIR}/scripts/build-client.sh ${RTCGATE_CLIENT_BUNDLE}
    DEPENDS ${PROJECT_SOURCE_DIR}/client/rtcgate-client.js ${PROJECT_SOURCE_DIR}/scripts/build-client.sh
    COMMENT "Bundling client/rtcgate-client.js with JsSIP" VERBATIM)
  add_custom_target(rtcgate_client_bundle ALL DEPENDS ${RTCGATE_CLIENT_BUNDLE})
  install(FILES web/softphone/index.html web/softphone/softphone.js web/softphone/softphone.css ${RTCGATE_CLIENT_BUNDLE}
    DESTINATION share/rtcgate/www)
  set(RTCGATE_INSTALLS_WWW ON)
else()
  message(STATUS "rtcgate: no node/esbuild (scripts/setup.sh runs npm ci in tests/js): share/rtcgate/www not installed")
  set(RTCGATE_INSTALLS_WWW OFF)
endif()

# `cpack` (and `make install`) install what is built and do not build `all` first: with the tests configured, that
# would build every suite before packaging. scripts/package.sh and scripts/build-runtime.sh build before installing.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

# The .deb. Dependencies come from dpkg-shlibdeps; libwebsockets' GLib event loop is a plugin lws dlopen()s at
# run time, so no ELF dependency names it: listed by hand.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME rtcgate)
set(CPACK_PACKAGE_VENDOR rtcgate)
set(CPACK_PACKAGE_CONTACT "rtcgate developers <rtcgate@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "WebRTC to SIP gateway (B2BUA) for Genesys agents")
set(CPACK_PACKAGE_DESCRIPTION "Browsers register over SIP over WSS (ICE, DTLS-SRTP, Opus); rtcgate registers their DNs\
 with Genesys SIP Server over SIP/UDP and bridges calls to plain RTP G.711.")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
# Install with DESTDIR into the staging tree: the prefix seen by the install code above is the package's /usr.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libwebsockets-evlib-glib, adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/packaging/deb/conffiles ${PROJECT_SOURCE_DIR}/packaging/deb/postinst
  ${PROJECT_SOURCE_DIR}/packaging/deb/prerm ${PROJECT_SOURCE_DIR}/packaging/deb/postrm)
include(CPack)
