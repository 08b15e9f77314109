# danube-sink-postgres: unit tests of its parts, and the connector process between the embedded
# broker and a real PostgreSQL 15 server (initdb and pg_ctl on a scratch directory, started by
# the tests themselves).
add_library(danube_postgres_test_support STATIC postgres_test_support.cpp)
target_include_directories(danube_postgres_test_support PUBLIC "${CMAKE_CURRENT_SOURCE_DIR}")
target_include_directories(danube_postgres_test_support PRIVATE "${PROJECT_SOURCE_DIR}/tests/chaos")
target_link_libraries(danube_postgres_test_support PUBLIC PkgConfig::PQXX chaos_support
  PRIVATE danube_warnings)

danube_add_test(connectors_postgres_units_test
  LABELS connectors
  SOURCES postgres_units_test.cpp
  LIBS danube_sink_postgres_lib
  TIMEOUT 60)

# process_batch in the test's own process against a real server (the batches are the test's).
danube_add_test(connectors_postgres_writer_test
  LABELS connectors
  SOURCES postgres_writer_test.cpp
  LIBS danube_sink_postgres_lib danube_postgres_test_support danube_test_support
  TIMEOUT 120)

foreach(_test postgres_sink_test postgres_chaos_test)
  danube_add_connector_test(connectors_${_test}
    CONNECTOR danube-sink-postgres
    SOURCES ${_test}.cpp
    LIBS danube_postgres_test_support danube_client nlohmann_json::nlohmann_json)
endforeach()
