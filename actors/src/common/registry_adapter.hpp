#pragma once

#include <memory>

#include "danube/client/client.hpp"
#include "danube/services/schema_registry.hpp"

namespace danube::runtime {

// The author API's schema registry interface, served by the Danube client's registry calls.
std::shared_ptr<services::SchemaRegistryClient> make_registry_adapter(client::DanubeClient client);

}  // namespace danube::runtime
