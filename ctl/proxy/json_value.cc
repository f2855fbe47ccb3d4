#include "ctl/proxy/json_value.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include <absl/strings/ascii.h>
#include <absl/strings/numbers.h>
#include <google/protobuf/util/json_util.h>
#include <yaml-cpp/yaml.h>

#include "core/json/json_writer.h"

namespace ambit::ctl::proxy {
namespace {

// Doubles hold integers exactly up to 2^53; counts, ports and versions are far below.
std::optional<int64_t> wholeNumber(double number) {
  constexpr double kExact = 9007199254740992.0;
  if (std::trunc(number) != number || std::fabs(number) > kExact) return std::nullopt;
  return static_cast<int64_t>(number);
}

std::vector<std::string> sortedKeys(const google::protobuf::Struct& object) {
  std::vector<std::string> keys;
  keys.reserve(object.fields().size());
  for (const auto& [key, unused] : object.fields()) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  return keys;
}

bool isNull(const Value& value) {
  return value.kind_case() == Value::kNullValue || value.kind_case() == Value::KIND_NOT_SET;
}

// The writer has no null: null members and elements are left out, which readers of the output
// take as the same "nothing".
void writeJson(json::Writer& w, const Value& value) {
  switch (value.kind_case()) {
    case Value::kStringValue:
      w.value(value.string_value());
      break;
    case Value::kNumberValue:
      if (const auto whole = wholeNumber(value.number_value())) {
        w.value(*whole);
      } else {
        w.value(value.number_value());
      }
      break;
    case Value::kBoolValue:
      w.value(value.bool_value());
      break;
    case Value::kListValue:
      w.beginArray();
      for (const Value& element : value.list_value().values()) {
        if (!isNull(element)) writeJson(w, element);
      }
      w.endArray();
      break;
    case Value::kStructValue:
      w.beginObject();
      for (const std::string& key : sortedKeys(value.struct_value())) {
        const Value& field = value.struct_value().fields().at(key);
        if (isNull(field)) continue;
        w.key(key);
        writeJson(w, field);
      }
      w.endObject();
      break;
    case Value::kNullValue:
    case Value::KIND_NOT_SET:
      break;  // left out by the caller
  }
}

// Whether a YAML reader would take the plain scalar `text` for something other than a string.
bool readsAsOtherThanString(const std::string& text) {
  if (text.empty()) return true;
  static const char* const kWords[] = {"true", "false", "yes", "no",   "on",
                                       "off",  "y",     "n",   "null", "~"};
  const std::string lower = absl::AsciiStrToLower(text);
  for (const char* word : kWords) {
    if (lower == word) return true;
  }
  double unused = 0;
  return absl::SimpleAtod(text, &unused);
}

void emitString(YAML::Emitter& out, const std::string& text) {
  if (readsAsOtherThanString(text)) out << YAML::DoubleQuoted;
  out << text;
}

void writeYaml(YAML::Emitter& out, const Value& value) {
  switch (value.kind_case()) {
    case Value::kStringValue:
      emitString(out, value.string_value());
      break;
    case Value::kNumberValue:
      if (const auto whole = wholeNumber(value.number_value())) {
        out << static_cast<long long>(*whole);
      } else {
        out << value.number_value();
      }
      break;
    case Value::kBoolValue:
      out << value.bool_value();
      break;
    case Value::kListValue:
      out << YAML::BeginSeq;
      for (const Value& element : value.list_value().values()) writeYaml(out, element);
      out << YAML::EndSeq;
      break;
    case Value::kStructValue:
      out << YAML::BeginMap;
      for (const std::string& key : sortedKeys(value.struct_value())) {
        out << YAML::Key;
        emitString(out, key);
        out << YAML::Value;
        writeYaml(out, value.struct_value().fields().at(key));
      }
      out << YAML::EndMap;
      break;
    case Value::kNullValue:
    case Value::KIND_NOT_SET:
      out << YAML::Null;
      break;
  }
}

}  // namespace

absl::StatusOr<Value> parseJson(const std::string& text) {
  Value value;
  const auto status = google::protobuf::util::JsonStringToMessage(text, &value);
  if (!status.ok()) {
    return absl::InvalidArgumentError(std::string(status.message()));
  }
  return value;
}

const Value* member(const Value& value, const std::string& key) {
  if (!value.has_struct_value()) return nullptr;
  const auto& fields = value.struct_value().fields();
  const auto it = fields.find(key);
  return it == fields.end() ? nullptr : &it->second;
}

const Values& elements(const Value* value) {
  static const Values kNone;
  return value != nullptr && value->has_list_value() ? value->list_value().values() : kNone;
}

std::string text(const Value* value) {
  if (value == nullptr) return "";
  switch (value->kind_case()) {
    case Value::kStringValue:
      return value->string_value();
    case Value::kNumberValue:
      if (const auto whole = wholeNumber(value->number_value())) return std::to_string(*whole);
      return absl::StrCat(value->number_value());
    case Value::kBoolValue:
      return value->bool_value() ? "true" : "false";
    case Value::kListValue: {
      std::string joined;
      for (const Value& element : value->list_value().values()) {
        absl::StrAppend(&joined, joined.empty() ? "" : ",", text(&element));
      }
      return joined;
    }
    default:
      return "";
  }
}

Value makeString(const std::string& text) {
  Value value;
  value.set_string_value(text);
  return value;
}

Value makeNumber(double number) {
  Value value;
  value.set_number_value(number);
  return value;
}

Value makeBool(bool flag) {
  Value value;
  value.set_bool_value(flag);
  return value;
}

Value makeList() {
  Value value;
  value.mutable_list_value();
  return value;
}

Value makeObject() {
  Value value;
  value.mutable_struct_value();
  return value;
}

void put(Value& object, const std::string& key, Value value) {
  (*object.mutable_struct_value()->mutable_fields())[key] = std::move(value);
}

void append(Value& list, Value value) {
  *list.mutable_list_value()->add_values() = std::move(value);
}

std::string toJson(const Value& value) {
  json::Writer w;
  writeJson(w, value);
  return w.str();
}

std::string toYaml(const Value& value) {
  YAML::Emitter out;
  writeYaml(out, value);
  return std::string(out.c_str()) + "\n";
}

}  // namespace ambit::ctl::proxy
