// danube-avro-bench: our Avro codec (danube::services::avro) against Apache Avro C
// (libavro-dev) on the work the runtime does: a JSON value encoded with a record schema
// (sources), and Avro binary decoded back to JSON (sinks). Both sides convert JSON themselves,
// so the figures include that conversion. It also checks that both write the same bytes.
#include <avro.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "danube/services/avro.hpp"

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kSchema = R"({"type":"record","name":"Order","namespace":"bench","fields":[
  {"name":"id","type":"long"},
  {"name":"customer","type":"string"},
  {"name":"amount","type":"double"},
  {"name":"quantity","type":"int"},
  {"name":"paid","type":"boolean"},
  {"name":"status","type":{"type":"enum","name":"Status","symbols":["NEW","PAID","SHIPPED"]}},
  {"name":"note","type":["null","string"],"default":null},
  {"name":"tags","type":{"type":"array","items":"string"}},
  {"name":"attributes","type":{"type":"map","values":"string"}},
  {"name":"address","type":{"type":"record","name":"Address","fields":[
    {"name":"street","type":"string"},{"name":"zip","type":"string"}]}}]})";

json order(std::size_t i) {
  static const char* kStatus[] = {"NEW", "PAID", "SHIPPED"};
  json value{{"id", static_cast<std::int64_t>(1'000'000 + i)},
             {"customer", "customer-" + std::to_string(i % 977)},
             {"amount", 12.5 + static_cast<double>(i % 100)},
             {"quantity", static_cast<int>(i % 50)},
             {"paid", i % 2 == 0},
             {"status", kStatus[i % 3]},
             {"note", i % 4 == 0 ? json(nullptr) : json("deliver after 5pm")},
             {"tags", json::array({"retail", "eu", "priority-" + std::to_string(i % 3)})},
             {"attributes", {{"channel", "web"}, {"campaign", "winter"}}},
             {"address", {{"street", "Main Street " + std::to_string(i % 300)}, {"zip", "10115"}}}};
  return value;
}

void check(int rc, const char* what) {
  if (rc != 0) throw std::runtime_error(std::string(what) + ": " + avro_strerror());
}

// JSON -> avro_value_t, with the same JSON mapping as ours (plain union values, enum symbols).
void fill(avro_value_t* target, const json& value) {
  switch (avro_value_get_type(target)) {
    case AVRO_NULL:
      check(avro_value_set_null(target), "null");
      break;
    case AVRO_BOOLEAN:
      check(avro_value_set_boolean(target, value.get<bool>() ? 1 : 0), "boolean");
      break;
    case AVRO_INT32:
      check(avro_value_set_int(target, value.get<std::int32_t>()), "int");
      break;
    case AVRO_INT64:
      check(avro_value_set_long(target, value.get<std::int64_t>()), "long");
      break;
    case AVRO_FLOAT:
      check(avro_value_set_float(target, value.get<float>()), "float");
      break;
    case AVRO_DOUBLE:
      check(avro_value_set_double(target, value.get<double>()), "double");
      break;
    case AVRO_STRING: {
      const auto& text = value.get_ref<const std::string&>();
      check(avro_value_set_string_len(target, text.c_str(), text.size() + 1), "string");
      break;
    }
    case AVRO_ENUM: {
      const int index = avro_schema_enum_get_by_name(avro_value_get_schema(target),
                                                     value.get_ref<const std::string&>().c_str());
      check(avro_value_set_enum(target, index), "enum");
      break;
    }
    case AVRO_RECORD: {
      std::size_t count = 0;
      check(avro_value_get_size(target, &count), "record size");
      for (std::size_t i = 0; i < count; ++i) {
        avro_value_t field;
        const char* name = nullptr;
        check(avro_value_get_by_index(target, i, &field, &name), "record field");
        fill(&field, value.at(name));
      }
      break;
    }
    case AVRO_ARRAY:
      for (const auto& item : value) {
        avro_value_t element;
        check(avro_value_append(target, &element, nullptr), "array append");
        fill(&element, item);
      }
      break;
    case AVRO_MAP:
      for (const auto& [key, item] : value.items()) {
        avro_value_t element;
        check(avro_value_add(target, key.c_str(), &element, nullptr, nullptr), "map add");
        fill(&element, item);
      }
      break;
    case AVRO_UNION: {
      avro_schema_t schema = avro_value_get_schema(target);
      int branch_index = -1;
      for (std::size_t i = 0; i < avro_schema_union_size(schema); ++i) {
        const bool is_null = is_avro_null(avro_schema_union_branch(schema, i));
        if (is_null == value.is_null()) {
          branch_index = static_cast<int>(i);
          break;
        }
      }
      avro_value_t branch;
      check(avro_value_set_branch(target, branch_index, &branch), "union branch");
      fill(&branch, value);
      break;
    }
    default:
      throw std::runtime_error("type not used by this benchmark");
  }
}

json read(const avro_value_t* source) {
  switch (avro_value_get_type(source)) {
    case AVRO_NULL:
      return nullptr;
    case AVRO_BOOLEAN: {
      int flag = 0;
      check(avro_value_get_boolean(source, &flag), "boolean");
      return flag != 0;
    }
    case AVRO_INT32: {
      std::int32_t number = 0;
      check(avro_value_get_int(source, &number), "int");
      return number;
    }
    case AVRO_INT64: {
      std::int64_t number = 0;
      check(avro_value_get_long(source, &number), "long");
      return number;
    }
    case AVRO_FLOAT: {
      float number = 0;
      check(avro_value_get_float(source, &number), "float");
      return number;
    }
    case AVRO_DOUBLE: {
      double number = 0;
      check(avro_value_get_double(source, &number), "double");
      return number;
    }
    case AVRO_STRING: {
      const char* text = nullptr;
      std::size_t size = 0;
      check(avro_value_get_string(source, &text, &size), "string");
      return std::string(text, size - 1);
    }
    case AVRO_ENUM: {
      int index = 0;
      check(avro_value_get_enum(source, &index), "enum");
      return avro_schema_enum_get(avro_value_get_schema(source), index);
    }
    case AVRO_RECORD:
    case AVRO_MAP: {  // both are JSON objects: fields, or entries, by name
      json object = json::object();
      std::size_t count = 0;
      check(avro_value_get_size(source, &count), "record or map size");
      for (std::size_t i = 0; i < count; ++i) {
        avro_value_t member;
        const char* name = nullptr;
        check(avro_value_get_by_index(source, i, &member, &name), "record field or map entry");
        object[name] = read(&member);
      }
      return object;
    }
    case AVRO_ARRAY: {
      json array = json::array();
      std::size_t count = 0;
      check(avro_value_get_size(source, &count), "array size");
      for (std::size_t i = 0; i < count; ++i) {
        avro_value_t element;
        check(avro_value_get_by_index(source, i, &element, nullptr), "array element");
        array.push_back(read(&element));
      }
      return array;
    }
    case AVRO_UNION: {
      avro_value_t branch;
      check(avro_value_get_current_branch(source, &branch), "union branch");
      return read(&branch);
    }
    default:
      throw std::runtime_error("type not used by this benchmark");
  }
}

// Avro C objects for one schema, released in reverse order.
class AvroC {
 public:
  explicit AvroC(const std::string& schema_json) {
    check(avro_schema_from_json_length(schema_json.data(), schema_json.size(), &schema_), "schema");
    iface_ = avro_generic_class_from_schema(schema_);
    check(avro_generic_value_new(iface_, &value_), "value");
    buffer_.resize(64 * 1024);
    writer_ = avro_writer_memory(buffer_.data(), static_cast<int64_t>(buffer_.size()));
    reader_ = avro_reader_memory(buffer_.data(), static_cast<int64_t>(buffer_.size()));
  }
  ~AvroC() {
    avro_reader_free(reader_);
    avro_writer_free(writer_);
    avro_value_decref(&value_);
    avro_value_iface_decref(iface_);
    avro_schema_decref(schema_);
  }
  AvroC(const AvroC&) = delete;
  AvroC& operator=(const AvroC&) = delete;

  std::string encode(const json& value) {
    check(avro_value_reset(&value_), "reset");
    fill(&value_, value);
    avro_writer_reset(writer_);
    check(avro_value_write(writer_, &value_), "write");
    return std::string(buffer_.data(), static_cast<std::size_t>(avro_writer_tell(writer_)));
  }

  json decode(const std::string& bytes) {
    avro_reader_memory_set_source(reader_, bytes.data(), static_cast<int64_t>(bytes.size()));
    check(avro_value_reset(&value_), "reset");
    check(avro_value_read(reader_, &value_), "read");
    return read(&value_);
  }

 private:
  avro_schema_t schema_ = nullptr;
  avro_value_iface_t* iface_ = nullptr;
  avro_value_t value_{};
  std::vector<char> buffer_;
  avro_writer_t writer_ = nullptr;
  avro_reader_t reader_ = nullptr;
};

template <class Fn>
double median_ns_per_op(std::size_t count, int runs, Fn&& fn) {
  std::vector<double> results;
  for (int run = 0; run < runs; ++run) {
    const auto start = Clock::now();
    for (std::size_t i = 0; i < count; ++i)
      fn(i);
    const std::chrono::duration<double, std::nano> elapsed = Clock::now() - start;
    results.push_back(elapsed.count() / static_cast<double>(count));
  }
  std::sort(results.begin(), results.end());
  return results[results.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t count = 100'000;
  int runs = 5;
  CLI::App app("danube-avro-bench: our Avro codec against Apache Avro C");
  app.add_option("--count", count)->check(CLI::PositiveNumber);
  app.add_option("--runs", runs)->check(CLI::PositiveNumber);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? 0 : 2;
  }

  const auto ours = danube::services::avro::Schema::parse(kSchema);
  AvroC theirs(kSchema);
  constexpr std::size_t kDistinct = 1024;
  std::vector<json> values;
  std::vector<std::string> encoded;
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < kDistinct; ++i) {
    values.push_back(order(i));
    encoded.push_back(ours.encode(values.back()));
    if (theirs.encode(values.back()) != encoded.back()) ++mismatches;
    if (theirs.decode(encoded.back()) != values.back() ||
        ours.decode(encoded.back()) != values.back())
      ++mismatches;
  }

  std::size_t sink = 0;  // keeps the optimizer from dropping the work
  const double ours_encode = median_ns_per_op(
      count, runs, [&](std::size_t i) { sink += ours.encode(values[i % kDistinct]).size(); });
  const double theirs_encode = median_ns_per_op(
      count, runs, [&](std::size_t i) { sink += theirs.encode(values[i % kDistinct]).size(); });
  const double ours_decode = median_ns_per_op(
      count, runs, [&](std::size_t i) { sink += ours.decode(encoded[i % kDistinct]).size(); });
  const double theirs_decode = median_ns_per_op(
      count, runs, [&](std::size_t i) { sink += theirs.decode(encoded[i % kDistinct]).size(); });

  std::printf("| step | ours ns/record | Avro C ns/record | Avro C / ours |\n|---|---|---|---|\n");
  std::printf("| encode (JSON -> binary) | %.0f | %.0f | %.2f |\n", ours_encode, theirs_encode,
              theirs_encode / ours_encode);
  std::printf("| decode (binary -> JSON) | %.0f | %.0f | %.2f |\n", ours_decode, theirs_decode,
              theirs_decode / ours_decode);
  std::printf(
      "\n%zu records per run, median of %d runs; record of %zu bytes on average; "
      "%zu of %zu sample records encoded or decoded differently (%zu)\n",
      count, runs,
      [&] {
        std::size_t total = 0;
        for (const auto& bytes : encoded)
          total += bytes.size();
        return total / encoded.size();
      }(),
      mismatches, kDistinct, sink % 10);
  return mismatches == 0 ? 0 : 1;
}
