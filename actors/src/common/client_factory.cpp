#include "danube/connect/error.hpp"
#include "danube/runtime/embedding.hpp"

namespace danube::runtime {

client::DanubeClient make_client(const connect::ConnectorConfig& config) {
  client::ClientOptions options;
  options.service_url = config.danube_service_url;
  const connect::AuthSettings& auth = config.auth;
  if (auth.has_tls_files()) {
    client::TlsOptions tls;
    if (auth.tls_ca_file) tls.ca_file = auth.tls_ca_file->string();
    if (auth.tls_cert_file) tls.cert_file = auth.tls_cert_file->string();
    if (auth.tls_key_file) tls.key_file = auth.tls_key_file->string();
    options.tls = tls;
  }
  if (auto token = auth.resolve_token()) options.token = *token;
  // The client retries transient broker errors on its own with a short budget; the runtime's
  // [retry] policy applies on top of it, to whole records.
  options.retry.max_retries = 5;
  auto client = client::DanubeClient::create(std::move(options));
  if (!client) {
    throw connect::ConnectorError::configuration("cannot create the Danube client: " +
                                                 client.error().message());
  }
  return std::move(client).value();
}

}  // namespace danube::runtime
