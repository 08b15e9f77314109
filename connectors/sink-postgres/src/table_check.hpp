#pragma once

// What the sink checks of each route's table at start, so that a mismatch between the
// configuration and the database stops it at once with a message naming the table and the
// column (exit code 2), instead of dead-lettering every record later.
#include <pqxx/connection>
#include <string>
#include <vector>

#include "danube/connect/logger.hpp"
#include "postgres_settings.hpp"
#include "row_mapper.hpp"

namespace danube::sink_postgres {

// Creates the table when it is missing and the route says create_table; then checks that every
// column exists and that a unique index covers exactly the ON CONFLICT key. Returns the
// catalog's type name of each column of `columns`, in order. Throws ConfigError naming the
// route's key for what the configuration must fix.
std::vector<std::string> prepare_table(pqxx::connection& connection, const Route& route,
                                       const std::vector<TargetColumn>& columns,
                                       connect::Logger& logger);

}  // namespace danube::sink_postgres
