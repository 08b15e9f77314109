#pragma once

#include <string>
#include <string_view>

namespace danube::client::detail {

// Danube 0.15's registry does not answer GetSchema and GetLatestSchema with the definition that
// was registered but with its own record of it, serialized by serde_json: the JSON string
// "Bytes", "String" or "Number" for the types that carry no definition, and a one-key object for
// the others:
//   {"Avro":{"raw_schema":S,"fingerprint":F}}
//   {"JsonSchema":{"raw_schema":S,"fingerprint":F}}
//   {"Protobuf":{"raw_proto":S,"message_name":M,"fingerprint":F}}
//
// Returns the registered definition S when `definition` is that envelope for `schema_type` (the
// registry's spelling, case-insensitive), and an empty string for the unit variants (the broker
// keeps no definition for them). Anything else comes back unchanged: the raw definition of a
// broker that answers it as registered, a variant that belongs to another type, an object
// lacking the string fields above, text that is not JSON. Never throws on any input.
std::string unwrap_schema_definition(std::string_view schema_type, std::string definition);

}  // namespace danube::client::detail
