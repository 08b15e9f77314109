# danube-sink-http: unit tests of its parts, and the connector process between the embedded
# broker and an HTTP server in the test process (civetweb).
add_library(danube_http_sink_test_server STATIC http_sink_server.cpp)
target_include_directories(danube_http_sink_test_server PUBLIC "${CMAKE_CURRENT_SOURCE_DIR}")
target_link_libraries(danube_http_sink_test_server PRIVATE civetweb::civetweb danube_warnings)

danube_add_test(connectors_http_sink_units_test
  LABELS connectors
  SOURCES http_sink_units_test.cpp
  LIBS danube_sink_http_lib danube_http_sink_test_server
  TIMEOUT 60)

danube_add_connector_test(connectors_http_sink_test
  CONNECTOR danube-sink-http
  SOURCES http_sink_test.cpp
  LIBS danube_http_sink_test_server danube_sink_http_lib danube_client nlohmann_json::nlohmann_json)
