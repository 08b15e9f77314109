# danube-source-mqtt: unit tests of its parts, and the connector process against a real
# mosquitto (started by the test) and the embedded broker.
danube_add_test(connectors_mqtt_units_test
  LABELS connectors
  SOURCES mqtt_units_test.cpp
  LIBS danube_source_mqtt_lib
  TIMEOUT 60)

add_library(danube_mqtt_test_support STATIC mqtt_test_support.cpp)
target_include_directories(danube_mqtt_test_support PUBLIC
  "${CMAKE_CURRENT_SOURCE_DIR}" "${PROJECT_SOURCE_DIR}/tests/chaos")
target_link_libraries(danube_mqtt_test_support PUBLIC chaos_support PkgConfig::MOSQUITTO
  PRIVATE danube_warnings)

danube_add_connector_test(connectors_mqtt_source_test
  CONNECTOR danube-source-mqtt
  SOURCES mqtt_source_test.cpp
  LIBS danube_mqtt_test_support danube_client danube_test_support)
