#pragma once

// The Boost.Test side of promtool.hpp, for test executables.
#include <boost/test/unit_test.hpp>
#include <string>

#include "promtool.hpp"

namespace danube::test {

// A Boost.Test check that promtool accepts what `what` served. Without promtool it warns that
// nothing was checked (scripts/setup.sh installs it, so that happens only off the build machines).
inline void check_with_promtool(const std::string& exposition, const std::string& what) {
  const auto verdict = promtool_check_metrics(exposition);
  if (!verdict) {
    BOOST_WARN_MESSAGE(false, "promtool not installed: " << what << "'s /metrics not checked");
    return;
  }
  BOOST_TEST(verdict->accepted(), "promtool check metrics on " << what << "'s /metrics: exit "
                                                               << verdict->exit_code << "\n"
                                                               << verdict->output);
}

}  // namespace danube::test
