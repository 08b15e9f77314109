# Finds the C++ Actor Framework (CAF ships neither a CMake package config nor a .pc file).
#
#   find_package(CAF 0.17 REQUIRED COMPONENTS core io)
#
# defines the imported targets CAF::core, CAF::io (and CAF::openssl when asked for) and
# CAF_VERSION, read from caf/config.hpp.
find_path(CAF_INCLUDE_DIR NAMES caf/config.hpp)
if(CAF_INCLUDE_DIR)
  file(STRINGS "${CAF_INCLUDE_DIR}/caf/config.hpp" _caf_version_line REGEX "^#define CAF_VERSION [0-9]+")
  string(REGEX REPLACE ".*CAF_VERSION ([0-9]+).*" "\\1" _caf_version_number "${_caf_version_line}")
  math(EXPR _caf_major "${_caf_version_number} / 10000")
  math(EXPR _caf_minor "(${_caf_version_number} / 100) % 100")
  math(EXPR _caf_patch "${_caf_version_number} % 100")
  set(CAF_VERSION "${_caf_major}.${_caf_minor}.${_caf_patch}")
endif()

if(NOT CAF_FIND_COMPONENTS)
  set(CAF_FIND_COMPONENTS core)
endif()

find_package(Threads REQUIRED)
foreach(_caf_component IN LISTS CAF_FIND_COMPONENTS)
  find_library(CAF_${_caf_component}_LIBRARY NAMES caf_${_caf_component})
  if(CAF_${_caf_component}_LIBRARY)
    set(CAF_${_caf_component}_FOUND TRUE)
  endif()
  if(CAF_${_caf_component}_FOUND AND NOT TARGET CAF::${_caf_component})
    add_library(CAF::${_caf_component} SHARED IMPORTED)
    set_target_properties(CAF::${_caf_component} PROPERTIES
      IMPORTED_LOCATION "${CAF_${_caf_component}_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}"
      INTERFACE_LINK_LIBRARIES Threads::Threads)
    if(NOT _caf_component STREQUAL "core")
      set_property(TARGET CAF::${_caf_component} APPEND PROPERTY INTERFACE_LINK_LIBRARIES CAF::core)
    endif()
  endif()
endforeach()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(CAF
  REQUIRED_VARS CAF_INCLUDE_DIR
  VERSION_VAR CAF_VERSION
  HANDLE_COMPONENTS)
mark_as_advanced(CAF_INCLUDE_DIR)
