# Compiler and linker flags for every target of the project.
#
# ORC_WERROR (default OFF): warnings are errors. The project's presets and CI turn it on;
# distributions and users building with their own flags or a newer compiler get warnings, not
# a failed build.
#
# ORC_HARDENING (default ON): Debian's hardening flags (what `dpkg-buildflags` gives with
# DEB_BUILD_MAINT_OPTIONS=hardening=+all), so that `hardening-check` passes on the binary:
#   -fstack-protector-strong, -D_FORTIFY_SOURCE=2 (only when optimising: glibc needs -O),
#   -fstack-clash-protection, -fcf-protection (x86), -Wl,-z,relro -Wl,-z,now, PIE.
# Each one is added only if the builder's own CMAKE_CXX_FLAGS / CMAKE_EXE_LINKER_FLAGS carry
# nothing of its kind: a packager's dpkg-buildflags (or -fno-stack-protector) wins.

include(CheckCXXCompilerFlag)
include(CheckPIESupported)

option(ORC_WERROR "Treat compiler warnings as errors (on in CMakePresets.json and CI)" OFF)
option(ORC_HARDENING "Add Debian's hardening flags the builder did not pass" ON)

add_compile_options(-Wall -Wextra -Wpedantic)
if(ORC_WERROR)
  add_compile_options(-Werror)
endif()

if(ORC_HARDENING)
  # Everything the builder passed, whatever the build type.
  string(TOUPPER "${CMAKE_BUILD_TYPE}" _orc_bt)
  set(_orc_cflags "${CMAKE_CXX_FLAGS} ${CMAKE_CXX_FLAGS_${_orc_bt}} $ENV{CPPFLAGS}")
  set(_orc_ldflags "${CMAKE_EXE_LINKER_FLAGS} ${CMAKE_EXE_LINKER_FLAGS_${_orc_bt}}")

  # orc_harden(REGEX flag...): add the flags unless the builder's flags match REGEX.
  function(_orc_harden_compile regex)
    if(_orc_cflags MATCHES "${regex}")
      message(STATUS "Hardening: builder's flags set ${regex}, not adding ${ARGN}")
      return()
    endif()
    string(MAKE_C_IDENTIFIER "ORC_HAVE${ARGN}" _var)
    check_cxx_compiler_flag("${ARGN}" ${_var})
    if(${_var})
      add_compile_options(${ARGN})
    endif()
  endfunction()

  _orc_harden_compile("-f(no-)?stack-protector" -fstack-protector-strong)
  _orc_harden_compile("-f(no-)?stack-clash-protection" -fstack-clash-protection)
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|i.86)$")
    _orc_harden_compile("-f(no-)?cf-protection" -fcf-protection)
  endif()
  # glibc's fortified functions need optimisation; without it they warn (an error under
  # ORC_WERROR). Debug builds are -O0. -U first: some compilers predefine a level.
  if(NOT _orc_cflags MATCHES "_FORTIFY_SOURCE")
    add_compile_options("$<$<NOT:$<CONFIG:Debug>>:-U_FORTIFY_SOURCE;-D_FORTIFY_SOURCE=2>")
  else()
    message(STATUS "Hardening: builder's flags set _FORTIFY_SOURCE, not adding it")
  endif()

  if(NOT _orc_ldflags MATCHES "-z,?relro")
    add_link_options(LINKER:-z,relro)
  endif()
  if(NOT _orc_ldflags MATCHES "-z,?(now|lazy)")
    add_link_options(LINKER:-z,now)
  endif()
  if(NOT _orc_cflags MATCHES "-f(no-)?(pie|PIE|pic|PIC)( |$)" AND NOT _orc_ldflags MATCHES "-(no-)?pie")
    check_pie_supported(LANGUAGES CXX)
    set(CMAKE_POSITION_INDEPENDENT_CODE ON)
  endif()
endif()
