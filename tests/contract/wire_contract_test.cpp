// Keeps proto/danube/*.proto equal to Danube's wire contract (tests/data/wire-contract.tsv):
// the protos are compiled into a descriptor set at build time, rendered here as the same
// kind/package/scope/name/number/type/label rows, and compared with the table.
#include <google/protobuf/descriptor.pb.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

using google::protobuf::DescriptorProto;
using google::protobuf::EnumDescriptorProto;
using google::protobuf::FieldDescriptorProto;
using google::protobuf::FileDescriptorSet;

std::string join_row(const std::vector<std::string>& cells) {
  std::string row;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) row += '\t';
    row += cells[i];
  }
  return row;
}

// ".danube.MsgID" -> "MsgID"; ".danube.ConsumerRequest.SubscriptionType" -> "SubscriptionType"
std::string simple_type_name(const std::string& full_name) {
  const auto dot = full_name.rfind('.');
  return dot == std::string::npos ? full_name : full_name.substr(dot + 1);
}

std::string scalar_type_name(FieldDescriptorProto::Type type) {
  switch (type) {
    case FieldDescriptorProto::TYPE_DOUBLE: return "double";
    case FieldDescriptorProto::TYPE_FLOAT: return "float";
    case FieldDescriptorProto::TYPE_INT64: return "int64";
    case FieldDescriptorProto::TYPE_UINT64: return "uint64";
    case FieldDescriptorProto::TYPE_INT32: return "int32";
    case FieldDescriptorProto::TYPE_FIXED64: return "fixed64";
    case FieldDescriptorProto::TYPE_FIXED32: return "fixed32";
    case FieldDescriptorProto::TYPE_BOOL: return "bool";
    case FieldDescriptorProto::TYPE_STRING: return "string";
    case FieldDescriptorProto::TYPE_BYTES: return "bytes";
    case FieldDescriptorProto::TYPE_UINT32: return "uint32";
    case FieldDescriptorProto::TYPE_SFIXED32: return "sfixed32";
    case FieldDescriptorProto::TYPE_SFIXED64: return "sfixed64";
    case FieldDescriptorProto::TYPE_SINT32: return "sint32";
    case FieldDescriptorProto::TYPE_SINT64: return "sint64";
    default: return "unknown";
  }
}

bool is_map_entry(const DescriptorProto& message) {
  return message.has_options() && message.options().map_entry();
}

const DescriptorProto* find_nested(const DescriptorProto& message, const std::string& name) {
  for (const auto& nested : message.nested_type()) {
    if (nested.name() == name) return &nested;
  }
  return nullptr;
}

void render_enum(const std::string& package, const std::string& scope,
                 const EnumDescriptorProto& enumeration, std::vector<std::string>& rows) {
  for (const auto& value : enumeration.value()) {
    rows.push_back(join_row({"enum", package, scope, value.name(), std::to_string(value.number()),
                             "", ""}));
  }
}

std::string field_label(const DescriptorProto& message, const FieldDescriptorProto& field) {
  if (field.label() == FieldDescriptorProto::LABEL_REPEATED) {
    if (field.type() == FieldDescriptorProto::TYPE_MESSAGE) {
      const auto* entry = find_nested(message, simple_type_name(field.type_name()));
      if (entry != nullptr && is_map_entry(*entry)) return "map";
    }
    return "repeated";
  }
  if (field.proto3_optional()) return "optional";
  if (field.has_oneof_index()) return "oneof:" + message.oneof_decl(field.oneof_index()).name();
  return "singular";
}

std::string field_type(const FieldDescriptorProto& field) {
  switch (field.type()) {
    case FieldDescriptorProto::TYPE_MESSAGE:
      return "message:" + simple_type_name(field.type_name());
    case FieldDescriptorProto::TYPE_ENUM:
      return "enum:" + simple_type_name(field.type_name());
    default:
      return scalar_type_name(field.type());
  }
}

void render_message(const std::string& package, const std::string& scope,
                    const DescriptorProto& message, std::vector<std::string>& rows) {
  for (const auto& field : message.field()) {
    rows.push_back(join_row({"field", package, scope, field.name(), std::to_string(field.number()),
                             field_type(field), field_label(message, field)}));
  }
  for (const auto& enumeration : message.enum_type()) {
    render_enum(package, scope + "." + enumeration.name(), enumeration, rows);
  }
  for (const auto& nested : message.nested_type()) {
    if (!is_map_entry(nested)) render_message(package, scope + "." + nested.name(), nested, rows);
  }
}

std::vector<std::string> render_descriptor_set(const FileDescriptorSet& set) {
  std::vector<std::string> rows;
  for (const auto& file : set.file()) {
    const std::string& package = file.package();
    for (const auto& enumeration : file.enum_type()) {
      render_enum(package, enumeration.name(), enumeration, rows);
    }
    for (const auto& message : file.message_type()) {
      render_message(package, message.name(), message, rows);
    }
    for (const auto& service : file.service()) {
      for (const auto& method : service.method()) {
        const std::string path = "/" + package + "." + service.name() + "/" + method.name();
        const std::string kind = method.client_streaming()
                                     ? (method.server_streaming() ? "bidi-stream" : "client-stream")
                                     : (method.server_streaming() ? "server-stream" : "unary");
        rows.push_back(join_row({"rpc", package, service.name(), path, "",
                                 simple_type_name(method.input_type()) + "->" +
                                     simple_type_name(method.output_type()),
                                 kind}));
      }
    }
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

std::vector<std::string> read_contract(const std::string& path) {
  std::ifstream in(path);
  BOOST_REQUIRE_MESSAGE(in.good(), "cannot open the wire contract " << path);
  std::vector<std::string> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) rows.push_back(line);
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

FileDescriptorSet load_descriptor_set(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  BOOST_REQUIRE_MESSAGE(in.good(), "cannot open the descriptor set " << path);
  FileDescriptorSet set;
  BOOST_REQUIRE_MESSAGE(set.ParseFromIstream(&in), "cannot parse the descriptor set " << path);
  return set;
}

std::string describe_difference(const std::vector<std::string>& ours,
                                const std::vector<std::string>& contract) {
  std::vector<std::string> only_ours;
  std::vector<std::string> only_contract;
  std::set_difference(ours.begin(), ours.end(), contract.begin(), contract.end(),
                      std::back_inserter(only_ours));
  std::set_difference(contract.begin(), contract.end(), ours.begin(), ours.end(),
                      std::back_inserter(only_contract));
  std::ostringstream out;
  for (const auto& row : only_contract) out << "\n  missing from proto/: " << row;
  for (const auto& row : only_ours) out << "\n  not in the contract:  " << row;
  return out.str();
}

}  // namespace

BOOST_AUTO_TEST_CASE(protos_match_the_danube_wire_contract) {
  const auto ours = render_descriptor_set(load_descriptor_set(DANUBE_PROTO_DESCRIPTOR_SET_PATH));
  const auto contract = read_contract(DANUBE_WIRE_CONTRACT_PATH);
  BOOST_TEST_MESSAGE("rendered " << ours.size() << " rows, contract has " << contract.size());
  BOOST_CHECK_MESSAGE(ours == contract, "proto/ differs from the wire contract:"
                                            << describe_difference(ours, contract));
}

BOOST_AUTO_TEST_CASE(renderer_reports_a_changed_field_number) {
  // The comparison must be able to fail: renumber one field and expect exactly that row to
  // differ on both sides.
  auto set = load_descriptor_set(DANUBE_PROTO_DESCRIPTOR_SET_PATH);
  bool changed = false;
  for (auto& file : *set.mutable_file()) {
    for (auto& message : *file.mutable_message_type()) {
      if (message.name() != "MsgID") continue;
      for (auto& field : *message.mutable_field()) {
        if (field.name() == "topic_offset") {
          field.set_number(4);
          changed = true;
        }
      }
    }
  }
  BOOST_REQUIRE(changed);
  const auto ours = render_descriptor_set(set);
  const auto contract = read_contract(DANUBE_WIRE_CONTRACT_PATH);
  const auto difference = describe_difference(ours, contract);
  BOOST_CHECK(ours != contract);
  BOOST_CHECK(difference.find("missing from proto/: field\tdanube\tMsgID\ttopic_offset\t5") !=
              std::string::npos);
  BOOST_CHECK(difference.find("not in the contract:  field\tdanube\tMsgID\ttopic_offset\t4") !=
              std::string::npos);
}
