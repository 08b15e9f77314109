#pragma once
// The connector author's API in one include: connectors and the context handed to their
// initialize() (logger, metric handles, resume offsets), records and payloads, errors, batch
// results, configuration and its sections, routes and record contexts, the source sender and
// the SDK's version. Test stand-ins for the runtime's services are in testing.hpp.
//
// It depends on the standard library, nlohmann-json and danube/common only; no CAF, gRPC,
// spdlog or prometheus header (tests/unit/author_api_boundaries.sh checks it). The services
// the runtime uses (metrics, HTTP, health, offset store, dead-letter formatting, schema
// handling, logging set-up) are in danube/services/, library danube_services.

#include "danube/connect/batch_result.hpp"
#include "danube/connect/config.hpp"
#include "danube/connect/config_error.hpp"
#include "danube/connect/config_section.hpp"
#include "danube/connect/connector_context.hpp"
#include "danube/connect/consumer_config.hpp"
#include "danube/connect/error.hpp"
#include "danube/connect/error_type.hpp"
#include "danube/connect/logger.hpp"
#include "danube/connect/metric_handles.hpp"
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
#include "danube/connect/source_sender.hpp"
#include "danube/connect/version.hpp"
