#pragma once
// The connector author's API in one include: connectors, records and payloads, errors, batch
// results, configuration and its sections, routes and record contexts, the source sender and
// the SDK's version. It includes no CAF, gRPC, spdlog or prometheus header. The services the
// runtime uses (config loading internals, metrics, HTTP, health, offset store, dead-letter
// formatting, schema handling) have their own headers and are not part of it.

#include "danube/connect/batch_result.hpp"
#include "danube/connect/config.hpp"
#include "danube/connect/config_error.hpp"
#include "danube/connect/config_section.hpp"
#include "danube/connect/consumer_config.hpp"
#include "danube/connect/envelope_channel.hpp"
#include "danube/connect/error.hpp"
#include "danube/connect/error_type.hpp"
#include "danube/connect/offset.hpp"
#include "danube/connect/payload.hpp"
#include "danube/connect/producer_config.hpp"
#include "danube/connect/record_context.hpp"
#include "danube/connect/route.hpp"
#include "danube/connect/schema_config.hpp"
#include "danube/connect/sink_connector.hpp"
#include "danube/connect/sink_record.hpp"
#include "danube/connect/source_connector.hpp"
#include "danube/connect/source_record.hpp"
#include "danube/connect/version.hpp"
