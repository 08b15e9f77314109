// Prometheus's own linter on what connectors serve: `promtool check metrics` (Debian's
// prometheus package) must accept the /metrics of a running sink and a running source after
// traffic that gives every metric family of the SDK a sample (metrics_scenario.hpp), so that no
// family escapes the check. Without promtool the test exits 77 and ctest reports it skipped.
#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <cstdlib>

#include "documented_metrics.hpp"
#include "exposition.hpp"
#include "metrics_scenario.hpp"
#include "promtool_check.hpp"

using namespace danube::observability_test;

namespace {

struct RequirePromtool {
  RequirePromtool() {
    if (danube::test::find_on_path("promtool")) return;
    std::printf(
        "skipped: promtool not found on PATH (Debian's prometheus package; scripts/setup.sh "
        "installs it)\n");
    std::exit(77);
  }
};
BOOST_TEST_GLOBAL_FIXTURE(RequirePromtool);

}  // namespace

BOOST_AUTO_TEST_CASE(promtool_accepts_the_metrics_of_a_running_sink_and_source) {
  const ServedMetrics served = metrics_after_traffic("promtool");
  danube::test::check_with_promtool(served.sink, "simple_sink");
  danube::test::check_with_promtool(served.source, "simple_source");

  // Every family of the runtime was among what promtool read.
  auto checked = metric_families(served.sink);
  checked.merge(metric_families(served.source));
  for (const auto& [family, type] : documented_metric_families()) {
    BOOST_TEST(checked.count(family) == 1u, family << " had no sample: promtool did not see it");
  }
}
