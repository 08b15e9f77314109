# danube-source-webhook's tests (label `connectors`): its pieces in-process (webhook_unit_test),
# and the real process with the embedded broker and simple_sink, driven by libcurl.
find_package(CURL REQUIRED)

set(_webhook_tests
  webhook_unit_test
  webhook_http_test
  webhook_config_test
  webhook_broker_down_test)
foreach(_test IN LISTS _webhook_tests)
  danube_add_connector_test(connectors_${_test}
    CONNECTOR danube-source-webhook
    SOURCES ${_test}.cpp
    LIBS danube_source_webhook_lib CURL::libcurl OpenSSL::Crypto)
  target_compile_definitions(connectors_${_test} PRIVATE
    RUST_CONFIGS_DIR="${PROJECT_SOURCE_DIR}/connectors/source-webhook/tests/rust_layout")
endforeach()
