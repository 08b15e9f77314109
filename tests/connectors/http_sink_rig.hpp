#pragma once

// What the danube-sink-http process tests share: the embedded broker (a process) with the test's
// topics, a Danube client to produce numbered records and read the dead-letter topic, the test
// HTTP server, and danube-sink-http as a process.
#include <boost/test/unit_test.hpp>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "chaos_support.hpp"
#include "connector_rig.hpp"
#include "danube/client/client.hpp"
#include "http_sink_server.hpp"

namespace danube::http_sink_test {

using namespace std::chrono_literals;

inline const std::filesystem::path kBrokerBinary = DANUBE_EMBEDDED_BROKER_PATH;
inline const std::filesystem::path kConnectorBinary = CONNECTOR_PATH;

// The shared rig with danube-sink-http as the connector; its tables are [http_sink] and routes.
struct Rig : connector_test::ConnectorRig {
  Rig(const std::string& label, const std::vector<std::string>& topics)
      : ConnectorRig(label, kBrokerBinary, kConnectorBinary, topics) {}
};

// A route table: from, to, then whatever else (body_format, auth, ...).
inline std::string route(const std::string& from, const std::string& to,
                         const std::string& more = "") {
  return "[[http_sink.routes]]\nfrom = \"" + from + "\"\nto = \"" + to + "\"\n" + more;
}

// The record numbers a request carried: its body is one record (single), a JSON array, or
// NDJSON lines, each {"n": ...}.
inline std::vector<std::size_t> numbers_in(const ReceivedRequest& request) {
  std::vector<std::size_t> numbers;
  const auto add = [&](const nlohmann::json& value) {
    if (value.is_object() && value.contains("n")) numbers.push_back(value["n"].get<std::size_t>());
  };
  const auto whole = nlohmann::json::parse(request.body, nullptr, false);
  if (whole.is_array()) {
    for (const auto& element : whole)
      add(element);
  } else if (!whole.is_discarded()) {
    add(whole);
  } else {
    std::size_t start = 0;
    while (start < request.body.size()) {
      const auto end = request.body.find('\n', start);
      add(nlohmann::json::parse(request.body.substr(start, end - start), nullptr, false));
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }
  return numbers;
}

// What the endpoint accepted (2xx) on `path`: per partition topic, the record numbers in the
// order they first arrived, and how often numbers arrived again.
struct Accepted {
  std::map<std::string, std::vector<std::size_t>> first_seen_by_partition;
  std::set<std::size_t> distinct;
  std::size_t duplicates = 0;

  static Accepted on(const std::vector<ReceivedRequest>& requests, const std::string& path) {
    Accepted accepted;
    for (const auto& request : requests) {
      if (request.path != path || request.status < 200 || request.status > 299) continue;
      for (const std::size_t n : numbers_in(request)) {
        if (accepted.distinct.insert(n).second) {
          accepted.first_seen_by_partition[request.header("x-danube-partition-topic")].push_back(n);
        } else {
          ++accepted.duplicates;
        }
      }
    }
    return accepted;
  }

  // Whether each partition's records first arrived in increasing order.
  bool in_order() const {
    for (const auto& [partition, numbers] : first_seen_by_partition) {
      if (!std::is_sorted(numbers.begin(), numbers.end())) return false;
    }
    return true;
  }
};

inline std::size_t accepted_count(const std::vector<ReceivedRequest>& requests,
                                  const std::string& path) {
  return Accepted::on(requests, path).distinct.size();
}

}  // namespace danube::http_sink_test
