# Debian packages of what `cmake --install` installs (docs/using-the-sdk.md), made by `cpack` in
# a configured and built tree:
#   danube-connect-sdk  the sdk and sdk_shared components: headers, libraries, the CMake package,
#                       danube_connect.pc, danube-embedded-broker
#   danube-connectors   the connectors component: the connector binaries, their READMEs and
#                       sample configurations
# Both install under /usr. The runtime libraries they need are found by dpkg-shlibdeps (from
# dpkg-dev); the SDK also depends on the development packages its headers and its CMake package
# use.
set(DANUBE_PACKAGE_MAINTAINER
    "danube-connect maintainers <maintainers@users.noreply.r-seed-d7d3ec9d.example>"
    CACHE STRING "Maintainer field of the Debian packages")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME danube-connect)
set(CPACK_PACKAGE_VENDOR danube-connect)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Binaries and shared libraries lose their debug information (DanubeSdkInstall.cmake strips the
# static libraries' too).
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ONE_PER_GROUP)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${DANUBE_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The SDK's shared libraries need each other; they are in the package being built.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ".${CPACK_PACKAGING_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}")

set(CPACK_COMPONENTS_ALL sdk)
if(DANUBE_SHARED_SDK)
  list(APPEND CPACK_COMPONENTS_ALL sdk_shared)
endif()
if(DANUBE_BUILD_CONNECTORS)
  list(APPEND CPACK_COMPONENTS_ALL connectors)
endif()

set(CPACK_DEBIAN_SDK_PACKAGE_NAME danube-connect-sdk)
set(CPACK_DEBIAN_SDK_PACKAGE_SECTION libdevel)
# Descriptions: a summary line, then the long description (cpack indents it).
set(CPACK_DEBIAN_SDK_DESCRIPTION
    "C++ SDK for Danube messaging connectors
Headers, static and shared libraries, a CMake package (find_package(danube_connect)) and a
pkg-config file for writing Danube source and sink connectors in C++, with the actor runtime,
the Danube client and an embedded Danube-compatible broker for tests (danube-embedded-broker).")
# Headers the installed headers include (nlohmann-json, CAF), and the packages
# danube_connect-config.cmake finds for static linking.
set(CPACK_DEBIAN_SDK_PACKAGE_DEPENDS
    "nlohmann-json3-dev, libcaf-dev, prometheus-cpp-dev, libspdlog-dev, libgrpc++-dev, libprotobuf-dev, libprotoc-dev, libcivetweb-dev, libtomlplusplus-dev, libssl-dev, libcli11-dev")

set(CPACK_DEBIAN_CONNECTORS_PACKAGE_NAME danube-connectors)
set(CPACK_DEBIAN_CONNECTORS_PACKAGE_SECTION net)
set(CPACK_DEBIAN_CONNECTORS_DESCRIPTION
    "Danube messaging connectors
Source and sink connectors between Danube topics and MQTT, webhooks, HTTP endpoints and
PostgreSQL (danube-source-mqtt, danube-source-webhook, danube-sink-http, danube-sink-postgres),
each configured like its Rust namesake.")

include(CPack)
cpack_add_component_group(sdk)
cpack_add_component(sdk GROUP sdk)
cpack_add_component(sdk_shared GROUP sdk)
cpack_add_component_group(connectors)
cpack_add_component(connectors GROUP connectors)
