#include "core/config/yaml_decoder.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include <absl/strings/escaping.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/str_join.h>
#include <absl/time/time.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/duration.pb.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/timestamp.pb.h>

#include "core/config/duration.h"
#include "core/config/yaml_scalar.h"

namespace ambit::config {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

std::string nodeKind(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "an object";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Scalar:
      return absl::StrCat(scalarType(node) == ScalarType::kInt ? "an " : "a ",
                          scalarTypeName(scalarType(node)), " (\"", node.Scalar(), "\")");
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

// Map keys that read well after a dot stay bare; others are quoted in brackets.
std::string mapKeyPath(const std::string& path, const std::string& key) {
  const bool bare = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
  return bare ? absl::StrCat(path, ".", key) : absl::StrCat(path, "[\"", key, "\"]");
}

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                        std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

const FieldDescriptor* findField(const Descriptor* descriptor, const std::string& key) {
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    if (field->json_name() == key || field->name() == key) return field;
  }
  return nullptr;
}

std::string unknownFieldMessage(const Descriptor* descriptor, const std::string& key) {
  std::string message = absl::StrCat("unknown field \"", key, "\"");
  const FieldDescriptor* best = nullptr;
  size_t bestDistance = std::max<size_t>(2, key.size() / 3) + 1;
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const size_t d = editDistance(key, descriptor->field(i)->json_name());
    if (d < bestDistance) {
      bestDistance = d;
      best = descriptor->field(i);
    }
  }
  if (best != nullptr) absl::StrAppend(&message, "; did you mean \"", best->json_name(), "\"?");
  return message;
}

std::string enumChoices(const google::protobuf::EnumDescriptor* e) {
  std::vector<std::string> names;
  for (int i = 0; i < e->value_count(); ++i) names.push_back(e->value(i)->name());
  return absl::StrJoin(names, ", ");
}

bool isWrapper(const std::string& name) {
  static const std::set<std::string> kWrappers = {
      "google.protobuf.DoubleValue", "google.protobuf.FloatValue",  "google.protobuf.Int64Value",
      "google.protobuf.UInt64Value", "google.protobuf.Int32Value",  "google.protobuf.UInt32Value",
      "google.protobuf.BoolValue",   "google.protobuf.StringValue", "google.protobuf.BytesValue"};
  return kWrappers.count(name) > 0;
}

}  // namespace

YamlDecoder::YamlDecoder(const DecodeOptions& options, FieldLines* lines,
                         std::vector<DecodeError>* errors)
    : options_(options), lines_(lines), errors_(errors) {}

bool YamlDecoder::decode(const YAML::Node& node, Message& message, const std::string& path) {
  const size_t before = errors_->size();
  decodeMessage(node, message, path, 0);
  return errors_->size() == before;
}

int YamlDecoder::lineOf(const YAML::Node& node) const {
  const YAML::Mark mark = node.Mark();
  return mark.line < 0 ? 0 : mark.line + 1 + options_.line_offset;
}

void YamlDecoder::fail(const YAML::Node& node, const std::string& path, std::string message,
                       bool limit) {
  if (aborted_) return;
  if (errors_->size() >= options_.max_errors) {
    aborted_ = true;
    return;
  }
  errors_->push_back({path, lineOf(node), std::move(message), limit});
}

bool YamlDecoder::enter(const YAML::Node& node, const std::string& path, int depth, bool record) {
  if (aborted_) return false;
  if (++nodes_ > options_.max_nodes) {
    fail(node, path,
         absl::StrCat("document too large: more than ", options_.max_nodes,
                      " nodes after expanding aliases"),
         true);
    aborted_ = true;
    return false;
  }
  if (depth > options_.max_depth) {
    fail(node, path, absl::StrCat("nesting deeper than ", options_.max_depth, " levels"), true);
    aborted_ = true;
    return false;
  }
  if (record && lines_ != nullptr && !path.empty()) lines_->emplace(path, lineOf(node));
  return true;
}

void YamlDecoder::decodeMessage(const YAML::Node& node, Message& message, const std::string& path,
                                int depth) {
  if (!enter(node, path, depth)) return;
  if (decodeWellKnown(node, message, path, depth)) return;
  if (node.IsNull()) return;
  if (!node.IsMap()) {
    fail(node, path, absl::StrCat("expected an object, got ", nodeKind(node)));
    return;
  }
  const Descriptor* descriptor = message.GetDescriptor();
  std::set<std::string> seen;
  std::map<const google::protobuf::OneofDescriptor*, std::string> oneofs;
  for (const auto& entry : node) {
    const YAML::Node& key = entry.first;
    if (!key.IsScalar()) {
      fail(key, path, "field names must be strings");
      continue;
    }
    const std::string& name = key.Scalar();
    const std::string fieldPath = path.empty() ? name : absl::StrCat(path, ".", name);
    const FieldDescriptor* field = findField(descriptor, name);
    if (field == nullptr) {
      if (!options_.ignore_unknown_fields)
        fail(key, fieldPath, unknownFieldMessage(descriptor, name));
      continue;
    }
    if (!seen.insert(field->name()).second) {
      fail(key, fieldPath, "field is set more than once");
      continue;
    }
    if (const auto* oneof = field->real_containing_oneof();
        oneof != nullptr && !entry.second.IsNull()) {
      auto [it, inserted] = oneofs.emplace(oneof, name);
      if (!inserted) {
        fail(key, fieldPath,
             absl::StrCat("\"", name, "\" and \"", it->second,
                          "\" cannot both be set (only one of them is allowed)"));
        continue;
      }
    }
    if (lines_ != nullptr) lines_->emplace(fieldPath, lineOf(key));
    decodeField(entry.second, message, field, fieldPath, depth + 1);
  }
}

void YamlDecoder::decodeField(const YAML::Node& node, Message& message,
                              const FieldDescriptor* field, const std::string& path, int depth) {
  if (field->is_map()) {
    if (!enter(node, path, depth) || node.IsNull()) return;
    if (!node.IsMap()) {
      fail(node, path, absl::StrCat("expected an object, got ", nodeKind(node)));
      return;
    }
    for (const auto& entry : node)
      decodeMapEntry(entry.first, entry.second, message, field, path, depth);
    return;
  }
  if (field->is_repeated()) {
    if (!enter(node, path, depth) || node.IsNull()) return;
    if (!node.IsSequence()) {
      fail(node, path, absl::StrCat("expected a list, got ", nodeKind(node)));
      return;
    }
    for (size_t i = 0; i < node.size(); ++i) {
      const YAML::Node item = node[i];
      const std::string itemPath = absl::StrCat(path, "[", i, "]");
      if (item.IsNull() && field->message_type() == nullptr) {
        fail(item, itemPath, "list items cannot be null");
        continue;
      }
      decodeSingular(item, message, field, itemPath, depth + 1);
    }
    return;
  }
  decodeSingular(node, message, field, path, depth);
}

void YamlDecoder::decodeMapEntry(const YAML::Node& key, const YAML::Node& value, Message& message,
                                 const FieldDescriptor* field, const std::string& path, int depth) {
  if (!key.IsScalar()) {
    fail(key, path, "map keys must be strings");
    return;
  }
  const std::string entryPath = mapKeyPath(path, key.Scalar());
  const Reflection* reflection = message.GetReflection();
  Message* entry = reflection->AddMessage(&message, field);
  const FieldDescriptor* keyField = entry->GetDescriptor()->map_key();
  const FieldDescriptor* valueField = entry->GetDescriptor()->map_value();
  if (keyField->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
    entry->GetReflection()->SetString(entry, keyField, key.Scalar());
  } else {
    decodeSingular(key, *entry, keyField, entryPath, depth + 1);
  }
  if (value.IsNull() && valueField->message_type() == nullptr) {
    fail(value, entryPath, "map values cannot be null");
    return;
  }
  decodeSingular(value, *entry, valueField, entryPath, depth + 1);
}

void YamlDecoder::decodeSingular(const YAML::Node& node, Message& message,
                                 const FieldDescriptor* field, const std::string& path, int depth) {
  const Reflection* r = message.GetReflection();
  const bool repeated = field->is_repeated();
  if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    Message* sub = repeated ? r->AddMessage(&message, field) : r->MutableMessage(&message, field);
    decodeMessage(node, *sub, path, depth);
    return;
  }
  if (!enter(node, path, depth) || node.IsNull()) return;
  if (!node.IsScalar()) {
    fail(node, path,
         absl::StrCat("expected ",
                      field->cpp_type() == FieldDescriptor::CPPTYPE_STRING ? "a string" : "a value",
                      ", got ", nodeKind(node)));
    return;
  }
  const std::string& text = node.Scalar();
  const ScalarType type = scalarType(node);
  auto wrongType = [&](const char* expected) {
    fail(node, path, absl::StrCat("expected ", expected, ", got ", nodeKind(node)));
  };
  auto outOfRange = [&](const char* typeName) {
    fail(node, path, absl::StrCat("value ", text, " is out of range for ", typeName));
  };
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64: {
      const bool is32 = field->cpp_type() == FieldDescriptor::CPPTYPE_INT32;
      if (type != ScalarType::kInt && type != ScalarType::kString) return wrongType("an integer");
      const auto v = parseInt64(text);
      if (!v) {
        if (type == ScalarType::kInt) return outOfRange(is32 ? "int32" : "int64");
        return wrongType("an integer");
      }
      if (is32) {
        if (*v < std::numeric_limits<int32_t>::min() || *v > std::numeric_limits<int32_t>::max()) {
          return outOfRange("int32");
        }
        repeated ? r->AddInt32(&message, field, static_cast<int32_t>(*v))
                 : r->SetInt32(&message, field, static_cast<int32_t>(*v));
      } else {
        repeated ? r->AddInt64(&message, field, *v) : r->SetInt64(&message, field, *v);
      }
      return;
    }
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64: {
      const bool is32 = field->cpp_type() == FieldDescriptor::CPPTYPE_UINT32;
      if (type != ScalarType::kInt && type != ScalarType::kString) return wrongType("an integer");
      if (!text.empty() && text[0] == '-' && parseInt64(text)) {
        return outOfRange(is32 ? "uint32 (it cannot be negative)"
                               : "uint64 (it cannot be negative)");
      }
      const auto v = parseUint64(text);
      if (!v) {
        if (type == ScalarType::kInt) return outOfRange(is32 ? "uint32" : "uint64");
        return wrongType("an integer");
      }
      if (is32) {
        if (*v > std::numeric_limits<uint32_t>::max()) return outOfRange("uint32");
        repeated ? r->AddUInt32(&message, field, static_cast<uint32_t>(*v))
                 : r->SetUInt32(&message, field, static_cast<uint32_t>(*v));
      } else {
        repeated ? r->AddUInt64(&message, field, *v) : r->SetUInt64(&message, field, *v);
      }
      return;
    }
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT: {
      if (type == ScalarType::kBool) return wrongType("a number");
      const auto v = parseDouble(text);
      if (!v) return wrongType("a number");
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_FLOAT) {
        if (std::isfinite(*v) && std::fabs(*v) > std::numeric_limits<float>::max()) {
          return outOfRange("float");
        }
        repeated ? r->AddFloat(&message, field, static_cast<float>(*v))
                 : r->SetFloat(&message, field, static_cast<float>(*v));
      } else {
        repeated ? r->AddDouble(&message, field, *v) : r->SetDouble(&message, field, *v);
      }
      return;
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      const auto v = parseBool(text);
      if (!v) return wrongType("true or false");
      repeated ? r->AddBool(&message, field, *v) : r->SetBool(&message, field, *v);
      return;
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const auto* e = field->enum_type();
      const google::protobuf::EnumValueDescriptor* value = e->FindValueByName(text);
      if (value == nullptr && type == ScalarType::kInt) {
        if (auto n = parseInt64(text)) value = e->FindValueByNumber(static_cast<int>(*n));
      }
      if (value == nullptr) {
        return fail(node, path,
                    absl::StrCat("unknown value \"", text, "\" for ", e->name(),
                                 "; expected one of ", enumChoices(e)));
      }
      repeated ? r->AddEnum(&message, field, value) : r->SetEnum(&message, field, value);
      return;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      if (field->type() == FieldDescriptor::TYPE_BYTES) {
        std::string bytes;
        if (!absl::Base64Unescape(text, &bytes)) {
          return fail(node, path, "expected base64-encoded data");
        }
        repeated ? r->AddString(&message, field, bytes) : r->SetString(&message, field, bytes);
        return;
      }
      if (type != ScalarType::kString) return wrongType("a string (quote the value)");
      repeated ? r->AddString(&message, field, text) : r->SetString(&message, field, text);
      return;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
}

bool YamlDecoder::decodeWellKnown(const YAML::Node& node, Message& message, const std::string& path,
                                  int depth) {
  const Descriptor* d = message.GetDescriptor();
  const std::string& name = d->full_name();
  if (isWrapper(name)) {
    if (node.IsNull()) return true;
    decodeSingular(node, message, d->FindFieldByNumber(1), path, depth);
    return true;
  }
  if (name == "google.protobuf.Duration") {
    if (node.IsNull()) return true;
    if (!node.IsScalar() || scalarType(node) == ScalarType::kBool) {
      fail(node, path, absl::StrCat("expected a duration such as 10s, got ", nodeKind(node)));
      return true;
    }
    auto parsed = parseDuration(node.Scalar());
    if (!parsed.ok()) {
      fail(node, path, std::string(parsed.status().message()));
      return true;
    }
    message.CopyFrom(*parsed);
    return true;
  }
  if (name == "google.protobuf.Timestamp") {
    if (node.IsNull()) return true;
    absl::Time t;
    std::string err;
    if (!node.IsScalar() || !absl::ParseTime(absl::RFC3339_full, node.Scalar(), &t, &err)) {
      fail(node, path, "expected an RFC 3339 timestamp such as 2026-01-02T15:04:05Z");
      return true;
    }
    auto& ts = static_cast<google::protobuf::Timestamp&>(message);
    const absl::Duration since = t - absl::UnixEpoch();
    ts.set_seconds(absl::ToInt64Seconds(since));
    ts.set_nanos(
        static_cast<int32_t>(absl::ToInt64Nanoseconds(since - absl::Seconds(ts.seconds()))));
    return true;
  }
  if (name == "google.protobuf.Struct") {
    if (node.IsNull()) return true;
    if (!node.IsMap()) {
      fail(node, path, absl::StrCat("expected an object, got ", nodeKind(node)));
      return true;
    }
    auto& s = static_cast<google::protobuf::Struct&>(message);
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) {
        fail(entry.first, path, "object keys must be strings");
        continue;
      }
      const std::string& key = entry.first.Scalar();
      decodeValue(entry.second, (*s.mutable_fields())[key], mapKeyPath(path, key), depth + 1);
    }
    return true;
  }
  if (name == "google.protobuf.Value") {
    decodeValue(node, message, path, depth);
    return true;
  }
  if (name == "google.protobuf.ListValue") {
    if (node.IsNull()) return true;
    if (!node.IsSequence()) {
      fail(node, path, absl::StrCat("expected a list, got ", nodeKind(node)));
      return true;
    }
    auto& list = static_cast<google::protobuf::ListValue&>(message);
    for (size_t i = 0; i < node.size(); ++i) {
      decodeValue(node[i], *list.add_values(), absl::StrCat(path, "[", i, "]"), depth + 1);
    }
    return true;
  }
  if (name == "google.protobuf.Any") {
    fail(node, path, "google.protobuf.Any fields are not supported");
    return true;
  }
  if (name == "ambit.k8s.IntOrString" || name == "istio.install.v1alpha1.IntOrString") {
    // Written as a bare number or string; Kubernetes' type field (0 int, 1 string) is implied.
    if (node.IsNull()) return true;
    const bool isInt = node.IsScalar() && scalarType(node) == ScalarType::kInt;
    const FieldDescriptor* field = d->FindFieldByNumber(isInt ? 2 : 3);
    message.GetReflection()->SetInt64(&message, d->FindFieldByNumber(1), isInt ? 0 : 1);
    decodeSingular(node, message, field, path, depth);
    return true;
  }
  return false;
}

void YamlDecoder::decodeValue(const YAML::Node& node, Message& message, const std::string& path,
                              int depth) {
  // Lines inside free-form values are not kept: nothing validates them field by field, and a
  // large value would otherwise cost a map entry per node.
  if (!enter(node, path, depth, false)) return;
  auto& value = static_cast<google::protobuf::Value&>(message);
  if (node.IsMap()) {
    decodeWellKnown(node, *value.mutable_struct_value(), path, depth);
    return;
  }
  if (node.IsSequence()) {
    decodeWellKnown(node, *value.mutable_list_value(), path, depth);
    return;
  }
  switch (scalarType(node)) {
    case ScalarType::kNull:
      value.set_null_value(google::protobuf::NULL_VALUE);
      return;
    case ScalarType::kBool:
      value.set_bool_value(*parseBool(node.Scalar()));
      return;
    case ScalarType::kInt:
    case ScalarType::kFloat:
      value.set_number_value(parseDouble(node.Scalar()).value_or(0));
      return;
    case ScalarType::kString:
      value.set_string_value(node.Scalar());
      return;
  }
}

}  // namespace ambit::config
