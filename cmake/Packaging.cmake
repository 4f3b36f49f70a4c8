# Install rules and the Debian package (`cpack -G DEB` in the build directory).
# Included from the top-level CMakeLists.txt after add_subdirectory(daemon), which defines the
# `origin-reconciler` executable target.
#
# Layout of the package:
#   /usr/bin/origin-reconciler
#   /lib/systemd/system/origin-reconciler.service
#   /etc/origin-reconciler/config.yaml, desired.yaml     (conffiles)
#   /usr/share/doc/origin-reconciler/README.systemd.md, copyright, changelog.Debian.gz
#   /usr/share/man/man8/origin-reconciler.8.gz, man5/origin-reconciler.yaml.5.gz
# Maintainer scripts: deploy/debian/{postinst,prerm,postrm}. The debug symbols go to a separate
# origin-reconciler-dbgsym .ddeb (/usr/lib/debug/.build-id/...), the packaged binary is stripped.

get_filename_component(ORC_REPO_ROOT "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)

# --- install rules ------------------------------------------------------------------------------
# The binary goes to <prefix>/bin: /usr/bin in the package (CPACK_PACKAGING_INSTALL_PREFIX).
# The unit and the configuration live at fixed absolute paths whatever the prefix, because
# ExecStart= and the daemon's default --config name them.
install(TARGETS origin-reconciler
  RUNTIME DESTINATION bin)
install(FILES "${ORC_REPO_ROOT}/systemd/origin-reconciler.service"
  DESTINATION /lib/systemd/system
  PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
# Readable by the service's DynamicUser= account; the token is NOT installed here (it is a
# systemd credential the operator creates, see systemd/README.md).
install(FILES
    "${ORC_REPO_ROOT}/config/config.yaml"
    "${ORC_REPO_ROOT}/config/desired.yaml"
  DESTINATION /etc/origin-reconciler
  PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES "${ORC_REPO_ROOT}/systemd/README.md"
  DESTINATION share/doc/origin-reconciler
  RENAME README.systemd.md)

# The package's revision: the .deb is version ${PROJECT_VERSION}-${ORC_DEB_REVISION}, and its
# changelog (deploy/debian/changelog) must start with that version.
set(ORC_DEB_REVISION 1)
# Machine-readable copyright (DEP-5) and the Debian changelog, compressed the way
# dh_installchangelogs and dh_compress do it (gzip -9n: no name, no timestamp).
install(FILES "${ORC_REPO_ROOT}/deploy/debian/copyright"
  DESTINATION share/doc/origin-reconciler)
file(MAKE_DIRECTORY "${CMAKE_BINARY_DIR}/debian")
add_custom_command(
  OUTPUT "${CMAKE_BINARY_DIR}/debian/changelog.Debian.gz"
  COMMAND sh -c "gzip -9n < \"$1\" > \"$2\"" sh "${ORC_REPO_ROOT}/deploy/debian/changelog"
          "${CMAKE_BINARY_DIR}/debian/changelog.Debian.gz"
  DEPENDS "${ORC_REPO_ROOT}/deploy/debian/changelog"
  VERBATIM)
add_custom_target(debian-changelog ALL DEPENDS "${CMAKE_BINARY_DIR}/debian/changelog.Debian.gz")
install(FILES "${CMAKE_BINARY_DIR}/debian/changelog.Debian.gz"
  DESTINATION share/doc/origin-reconciler)
# lintian's overrides, each with a comment saying why (tests/deploy/test_deb_package.sh).
install(FILES "${ORC_REPO_ROOT}/deploy/debian/lintian-overrides"
  DESTINATION share/lintian/overrides
  RENAME origin-reconciler)

# Manual pages, from the scdoc sources in man/ (Debian's scdoc). Without scdoc the build still
# works, but the package then lacks its manual pages (and tests/deploy/test_deb_package.sh fails).
option(ORC_MANPAGES "Build the manual pages (needs scdoc)" ON)
if(ORC_MANPAGES)
  find_program(ORC_SCDOC scdoc)
  if(NOT ORC_SCDOC)
    message(WARNING "scdoc not found: manual pages not built (apt-get install scdoc)")
  else()
    set(_orc_manpages)
    foreach(page origin-reconciler.8 origin-reconciler.yaml.5)
      string(REGEX REPLACE ".*\\.([0-9])$" "\\1" section "${page}")
      set(src "${ORC_REPO_ROOT}/man/${page}.scd")
      set(out "${CMAKE_BINARY_DIR}/man/${page}.gz")
      add_custom_command(
        OUTPUT "${out}"
        COMMAND ${CMAKE_COMMAND} -E make_directory "${CMAKE_BINARY_DIR}/man"
        COMMAND sh -c "\"$1\" < \"$2\" | gzip -9n > \"$3\"" sh "${ORC_SCDOC}" "${src}" "${out}"
        DEPENDS "${src}"
        COMMENT "Manual page ${page}"
        VERBATIM)
      list(APPEND _orc_manpages "${out}")
      install(FILES "${out}" DESTINATION share/man/man${section})
    endforeach()
    add_custom_target(manpages ALL DEPENDS ${_orc_manpages})
  endif()
endif()

# --- Debian package -----------------------------------------------------------------------------
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "origin-reconciler")
set(CPACK_PACKAGE_VENDOR "origin-reconciler maintainers")
set(CPACK_PACKAGE_CONTACT "origin-reconciler maintainers <origin-reconciler@example.com>")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Keeps Cloudflare origin-cloud-region mappings in line with a desired state")
# Lines of at most 80 characters: CPack copies them as they are into the control file.
set(CPACK_PACKAGE_DESCRIPTION
    "origin-reconciler is a daemon that compares a desired state of origin IP
addresses (YAML) with the live Cloudflare origin-cloud-region mappings of each
zone and deletes the stale ones, behind safety guards; under the sync policy it
also creates the missing mappings and corrects mismatched ones. It runs under
systemd (Type=notify, watchdog, credentials) or as a Kubernetes sidecar, where
replicas elect one active instance through a Lease, and exports Prometheus
metrics on 127.0.0.1:9464.")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
# Not CPACK_STRIP_FILES: it strips before CPack could keep the debug info for the -dbgsym
# package; with CPACK_DEBIAN_DEBUGINFO_PACKAGE, CPack strips the packaged binary itself.
set(CPACK_STRIP_FILES OFF)

set(CPACK_DEBIAN_PACKAGE_NAME "origin-reconciler")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # origin-reconciler_0.1.0-1_amd64.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE "${ORC_DEB_REVISION}")
# Debug symbols in origin-reconciler-dbgsym_0.1.0-1_amd64.ddeb, found by build id (needs a
# build with -g, e.g. the release preset's RelWithDebInfo); the .deb's binary is stripped.
set(CPACK_DEBIAN_DEBUGINFO_PACKAGE ON)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
# dpkg-shlibdeps works out the runtime library packages (libyaml-0-2, libcurl4,
# libspdlog1.10, libfmt9, libprometheus-cpp-core1.0, libsystemd0, ...); CPack prepends them to
# the Depends listed here. ca-certificates: libcurl only recommends it, HTTPS needs it.
# procps: the unit's ExecReload=/bin/kill (a minbase system has no kill; the deploy.systemd
# test found `systemctl reload` failing there).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "ca-certificates, procps")

# CMake 3.25's DEB generator does not mark anything as a conffile by itself (that is
# debhelper's dh_installdeb, not dpkg): the `conffiles` control file has to be supplied,
# like the maintainer scripts, through CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA.
set(ORC_DEB_CONFFILES
    /etc/origin-reconciler/config.yaml
    /etc/origin-reconciler/desired.yaml)
list(JOIN ORC_DEB_CONFFILES "\n" _orc_conffiles)
file(WRITE "${CMAKE_BINARY_DIR}/debian/conffiles" "${_orc_conffiles}\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${CMAKE_BINARY_DIR}/debian/conffiles"
    "${ORC_REPO_ROOT}/deploy/debian/postinst"
    "${ORC_REPO_ROOT}/deploy/debian/prerm"
    "${ORC_REPO_ROOT}/deploy/debian/postrm")
# 0755 for the scripts, 0644 for conffiles, whatever the checkout's modes are.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

include(CPack)
