# Installs the SDK for projects outside this tree (docs/using-the-sdk.md): the headers, the
# libraries, a CMake package (find_package(danube_connect CONFIG) with danube_connect::<name>
# targets) and a pkg-config file, in two install components:
#   sdk         headers, static libraries, the CMake package, danube_connect.pc and the
#               danube-embedded-broker executable
#   sdk_shared  the shared libraries and their CMake targets (with DANUBE_SHARED_SDK)
# The connector binaries are the `connectors` component (connectors/CMakeLists.txt).
#
# The shared libraries are linked from the objects the static ones are archived from (every SDK
# library is compiled position-independent), so they cost a link each, not a second build. They
# export the `danube` namespace only (cmake/danube_sdk.map): template instances and third-party
# code compiled into them stay local.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(DANUBE_PACKAGE_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/danube_connect")
# 0.x releases may break the ABI at every minor version, later ones at every major version.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(DANUBE_SOVERSION "${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR}")
else()
  set(DANUBE_SOVERSION "${PROJECT_VERSION_MAJOR}")
endif()

# The SDK's libraries, each dependency before the libraries using it; the package names them
# danube_connect::<name without "danube_">. danube_proto (the generated gRPC code) and
# danube_common are there because the others link them.
set(DANUBE_SDK_LIBRARIES
  danube_common danube_proto danube_connect danube_client danube_services danube_testkit
  danube_runtime)

foreach(_library IN LISTS DANUBE_SDK_LIBRARIES)
  string(REPLACE "danube_" "" _export_name "${_library}")
  set_target_properties(${_library} PROPERTIES EXPORT_NAME ${_export_name})
endforeach()

# danube_add_shared_twin(<static library> [PRIVATE_DEPENDENCIES]) adds <static library>_shared:
# the same objects as a shared library with a versioned SONAME, linking the shared twins of the
# SDK libraries the static one links and the same third-party libraries, with the same scope
# (PRIVATE_DEPENDENCIES: all private, for a library whose headers are not installed).
function(danube_add_shared_twin static_library)
  cmake_parse_arguments(arg "PRIVATE_DEPENDENCIES" "" "" ${ARGN})
  set(twin ${static_library}_shared)
  add_library(${twin} SHARED $<TARGET_OBJECTS:${static_library}>)
  get_target_property(linked ${static_library} LINK_LIBRARIES)
  get_target_property(interface ${static_library} INTERFACE_LINK_LIBRARIES)
  foreach(item IN LISTS linked)
    # Build-only helpers (the warning flags) have nothing to link.
    if(item MATCHES "^\\$<BUILD_INTERFACE:")
      continue()
    endif()
    set(scope PRIVATE)
    if(NOT arg_PRIVATE_DEPENDENCIES AND item IN_LIST interface)
      set(scope PUBLIC)
    endif()
    if(TARGET ${item}_shared)
      set(item ${item}_shared)
    endif()
    target_link_libraries(${twin} ${scope} ${item})
  endforeach()
  foreach(property INTERFACE_INCLUDE_DIRECTORIES INTERFACE_COMPILE_DEFINITIONS
                   INTERFACE_COMPILE_OPTIONS INTERFACE_COMPILE_FEATURES EXPORT_NAME)
    get_target_property(value ${static_library} ${property})
    if(value)
      set_property(TARGET ${twin} PROPERTY ${property} "${value}")
    endif()
  endforeach()
  if(static_library STREQUAL "danube_proto")
    set(symbol_map "${PROJECT_SOURCE_DIR}/cmake/danube_proto.map")
  else()
    set(symbol_map "${PROJECT_SOURCE_DIR}/cmake/danube_sdk.map")
  endif()
  set_target_properties(${twin} PROPERTIES
    OUTPUT_NAME ${static_library}
    VERSION ${PROJECT_VERSION}
    SOVERSION ${DANUBE_SOVERSION}
    LIBRARY_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/shared"
    # The SDK's libraries find each other where they are installed, wherever that is.
    INSTALL_RPATH "$ORIGIN"
    LINK_DEPENDS "${symbol_map}")
  target_link_options(${twin} PRIVATE
    "LINKER:--version-script=${symbol_map}" "LINKER:--exclude-libs,ALL" "LINKER:--no-undefined")
endfunction()

install(TARGETS ${DANUBE_SDK_LIBRARIES} EXPORT danube_connect_static
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT sdk
  INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(EXPORT danube_connect_static NAMESPACE danube_connect::
  FILE danube_connect-static-targets.cmake DESTINATION "${DANUBE_PACKAGE_INSTALL_DIR}"
  COMPONENT sdk)
# `cmake --install --strip` (and cpack) leaves static libraries alone; their debug information
# is most of their size, so it goes too (the symbol tables stay).
set(_archives)
foreach(_library IN LISTS DANUBE_SDK_LIBRARIES)
  list(APPEND _archives "$<TARGET_FILE_NAME:${_library}>")
endforeach()
install(CODE "
  if(CMAKE_INSTALL_DO_STRIP)
    foreach(archive ${_archives})
      execute_process(
        COMMAND \"${CMAKE_STRIP}\" --strip-debug
                \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/\${archive}\"
        COMMAND_ERROR_IS_FATAL ANY)
    endforeach()
  endif()" COMPONENT sdk)

if(DANUBE_SHARED_SDK)
  set(_twins)
  foreach(_library IN LISTS DANUBE_SDK_LIBRARIES)
    if(_library STREQUAL "danube_proto")
      danube_add_shared_twin(${_library} PRIVATE_DEPENDENCIES)
    else()
      danube_add_shared_twin(${_library})
    endif()
    list(APPEND _twins ${_library}_shared)
  endforeach()
  add_custom_target(danube_shared_sdk DEPENDS ${_twins})
  install(TARGETS ${_twins} EXPORT danube_connect_shared
    LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT sdk_shared
            NAMELINK_COMPONENT sdk_shared
    INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
  install(EXPORT danube_connect_shared NAMESPACE danube_connect::
    FILE danube_connect-shared-targets.cmake DESTINATION "${DANUBE_PACKAGE_INSTALL_DIR}"
    COMPONENT sdk_shared)
endif()

# Headers: the author API (danube/connect) next to the client, services, testkit and runtime
# headers; only danube/runtime/embedding.hpp includes CAF, and none includes gRPC.
install(DIRECTORY "${PROJECT_SOURCE_DIR}/libdanube_connect/include/danube"
                  "${PROJECT_SOURCE_DIR}/actors/include/danube"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}" COMPONENT sdk
  FILES_MATCHING PATTERN "*.hpp")
install(FILES "${PROJECT_BINARY_DIR}/generated/include/danube/connect/version.hpp"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/danube/connect" COMPONENT sdk)

# The embedded broker, for consumers' tests: danube_connect::embedded-broker. It links the SDK
# statically in every configuration.
set_target_properties(danube-embedded-broker PROPERTIES EXPORT_NAME embedded-broker)
install(TARGETS danube-embedded-broker EXPORT danube_connect_tools
  RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT sdk)
install(EXPORT danube_connect_tools NAMESPACE danube_connect::
  FILE danube_connect-tools-targets.cmake DESTINATION "${DANUBE_PACKAGE_INSTALL_DIR}"
  COMPONENT sdk)

# The package: which flavour find_package gives when the consumer does not say.
set(DANUBE_DEFAULT_SHARED_LIBS OFF)
if(BUILD_SHARED_LIBS)
  set(DANUBE_DEFAULT_SHARED_LIBS ON)
endif()
configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/danube_connect-config.cmake.in"
  "${PROJECT_BINARY_DIR}/package/danube_connect-config.cmake"
  INSTALL_DESTINATION "${DANUBE_PACKAGE_INSTALL_DIR}")
write_basic_package_version_file("${PROJECT_BINARY_DIR}/package/danube_connect-config-version.cmake"
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/package/danube_connect-config.cmake"
              "${PROJECT_BINARY_DIR}/package/danube_connect-config-version.cmake"
              "${PROJECT_SOURCE_DIR}/cmake/FindCAF.cmake"
  DESTINATION "${DANUBE_PACKAGE_INSTALL_DIR}" COMPONENT sdk)

# pkg-config: found relative to the .pc file, so the installed tree can be moved.
file(RELATIVE_PATH DANUBE_PC_PREFIX_FROM_PCFILEDIR
  "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
configure_file("${PROJECT_SOURCE_DIR}/cmake/danube_connect.pc.in"
  "${PROJECT_BINARY_DIR}/package/danube_connect.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/package/danube_connect.pc"
  DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig" COMPONENT sdk)
