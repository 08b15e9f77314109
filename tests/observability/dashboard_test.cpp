// The shipped Grafana dashboard (docs/grafana/danube-connector-dashboard.json) and the metric
// table of docs/observability.md against what a running sink and source serve: neither can
// drift from the metrics.
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>

#include "documented_metrics.hpp"
#include "exposition.hpp"
#include "metrics_scenario.hpp"
#include "promql_names.hpp"

using namespace danube::observability_test;
using nlohmann::json;

namespace {

// The scenario runs once for the whole module (every test case reads the same scrapes).
const ServedMetrics& served() {
  static const ServedMetrics metrics = metrics_after_traffic("dashboard");
  return metrics;
}

json dashboard() {
  std::ifstream file(std::string(DANUBE_SOURCE_DIR) +
                     "/docs/grafana/danube-connector-dashboard.json");
  BOOST_TEST_REQUIRE(file.good());
  return json::parse(file);
}

// Calls `visit(key, value)` for every member of every object in `node`, depth first.
void walk(const json& node, const std::function<void(const std::string&, const json&)>& visit) {
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      visit(key, value);
      walk(value, visit);
    }
  } else if (node.is_array()) {
    for (const auto& element : node)
      walk(element, visit);
  }
}

// Every PromQL expression of the dashboard: the panels' targets and the variables' queries
// (label_values(<expression>, <label>) selects through its first argument).
std::vector<std::string> expressions(const json& board) {
  std::vector<std::string> found;
  walk(board.at("panels"), [&](const std::string& key, const json& value) {
    if (key == "expr") found.push_back(value.get<std::string>());
  });
  for (const auto& variable : board.at("templating").at("list")) {
    const json& query = variable.at("query");
    std::string text =
        query.is_string() ? query.get<std::string>() : query.at("query").get<std::string>();
    const std::string prefix = "label_values(";
    if (text.rfind(prefix, 0) == 0) {
      text = text.substr(prefix.size(), text.rfind(',') - prefix.size());
    }
    found.push_back(text);
  }
  return found;
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_documented_metrics_are_the_served_ones) {
  auto served_families = metric_families(served().sink);
  served_families.merge(metric_families(served().source));
  std::map<std::string, std::string> runtime_families;
  for (const auto& [family, type] : served_families) {
    if (family.rfind("danube_connector_", 0) == 0) runtime_families[family] = type;
  }
  const auto documented = documented_metric_families();
  BOOST_TEST(!documented.empty());
  for (const auto& [family, type] : documented) {
    const auto it = runtime_families.find(family);
    BOOST_TEST((it != runtime_families.end()), family << " is documented but not served");
    if (it != runtime_families.end()) {
      BOOST_TEST(it->second == type,
                 family << " is a " << it->second << ", documented as " << type);
    }
  }
  for (const auto& [family, type] : runtime_families) {
    BOOST_TEST(documented.count(family) == 1u,
               family << " is served but missing from docs/observability.md");
  }
}

BOOST_AUTO_TEST_CASE(every_metric_the_dashboard_queries_is_served) {
  auto names = sample_names(served().sink);
  names.merge(sample_names(served().source));
  const auto queries = expressions(dashboard());
  BOOST_TEST(queries.size() >= 20u);
  std::set<std::string> queried;
  for (const auto& expression : queries) {
    const auto metrics = promql_metric_names(expression);
    BOOST_TEST(!metrics.empty(), "no metric in: " << expression);
    for (const auto& metric : metrics) {
      queried.insert(metric);
      BOOST_TEST(names.count(metric) == 1u, metric << " is not served; queried by " << expression);
    }
  }
  // The panels the dashboard promises (docs/observability.md) have their metrics.
  for (const std::string family :
       {"danube_connector_messages_received_total", "danube_connector_messages_processed_total",
        "danube_connector_messages_acked_total", "danube_connector_publish_latency_seconds_count",
        "danube_connector_messages_failed_total", "danube_connector_messages_dead_lettered_total",
        "danube_connector_messages_retried_total", "danube_connector_reconnects_total",
        "danube_connector_messages_lost_total", "danube_connector_inflight_messages",
        "danube_connector_health", "danube_connector_processing_duration_seconds_bucket",
        "danube_connector_ack_latency_seconds_bucket"}) {
    BOOST_TEST(queried.count(family) == 1u, family << " is on no panel");
  }
}

BOOST_AUTO_TEST_CASE(the_dashboard_takes_its_data_source_as_an_input_and_filters_by_connector) {
  const json board = dashboard();
  bool declared = false;
  for (const auto& input : board.at("__inputs")) {
    declared |= input.at("name") == "DS_PROMETHEUS" && input.at("pluginId") == "prometheus";
  }
  BOOST_TEST(declared, "__inputs declares no DS_PROMETHEUS Prometheus data source");
  std::size_t data_sources = 0;
  walk(board, [&](const std::string& key, const json& value) {
    if (key != "datasource") return;
    ++data_sources;
    BOOST_TEST(value.value("uid", "") == "${DS_PROMETHEUS}", value.dump());
  });
  BOOST_TEST(data_sources > 0u);
  std::set<std::string> variables;
  for (const auto& variable : board.at("templating").at("list")) {
    variables.insert(variable.at("name").get<std::string>());
  }
  BOOST_TEST(variables.count("connector") == 1u);
  for (const auto& expression : expressions(board)) {
    if (expression.rfind("danube_connector_health", 0) == 0) continue;  // the variable's own
    BOOST_TEST(expression.find(R"(connector=~"$connector")") != std::string::npos,
               "not filtered by $connector: " << expression);
  }
  // Panels do not overlap: each grid cell belongs to one panel.
  std::set<std::pair<int, int>> cells;
  walk(board.at("panels"), [&](const std::string& key, const json& grid) {
    if (key != "gridPos") return;
    for (int x = grid.at("x"); x < grid.at("x").get<int>() + grid.at("w").get<int>(); ++x) {
      for (int y = grid.at("y"); y < grid.at("y").get<int>() + grid.at("h").get<int>(); ++y) {
        BOOST_TEST(cells.insert({x, y}).second, "panels overlap at x=" << x << " y=" << y);
      }
    }
  });
}

BOOST_AUTO_TEST_CASE(promql_names_are_found_where_promql_reads_them) {
  using Names = std::set<std::string>;
  BOOST_TEST((
      promql_metric_names(
          R"q(histogram_quantile(0.99, sum by (connector, le) (rate(a_seconds_bucket{x=~"$y", le!="1"}[$__rate_interval]))))q") ==
      Names{"a_seconds_bucket"}));
  BOOST_TEST((promql_metric_names("sum without (topic) (b_total offset 5m) / on (connector) c") ==
              Names{"b_total", "c"}));
  BOOST_TEST(
      (promql_metric_names(R"q(label_replace(d, "dst", "$1", "src", "(.*)"))q") == Names{"d"}));
  BOOST_TEST((promql_metric_names("count(e) + 1e3 * topk(5, f)") == Names{"e", "f"}));
}
