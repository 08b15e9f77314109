#pragma once

#include "danube/common/schema.hpp"

namespace danube::connect {

using danube::parse_schema_type;
using danube::schema_type_needs_definition;
using danube::SchemaInfo;
using danube::SchemaType;
using danube::to_string;

}  // namespace danube::connect
