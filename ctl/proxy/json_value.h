// JSON as ambitctl's proxy commands handle it: read from Ambit's debug endpoints into protobuf's
// google.protobuf.Value, looked into with a few forgiving accessors, and written back as JSON or
// YAML for `-o json|yaml`.
#pragma once

#include <string>

#include <google/protobuf/struct.pb.h>

#include "core/status.h"

namespace ambit::ctl::proxy {

using google::protobuf::Value;
using Values = google::protobuf::RepeatedPtrField<Value>;

// Parses one JSON document with protobuf's parser; INVALID_ARGUMENT with its reason.
absl::StatusOr<Value> parseJson(const std::string& text);

// The member `key` of an object; null when `value` is not an object or has no such member.
const Value* member(const Value& value, const std::string& key);
// The elements of a list; none for anything else, null included.
const Values& elements(const Value* value);
// A scalar as a table shows it: a string as it is, an integral number without a fraction,
// true/false, a list as its elements' texts joined by ","; "" for null, objects and nothing.
std::string text(const Value* value);
inline std::string text(const Value& object, const std::string& key) {
  return text(member(object, key));
}

Value makeString(const std::string& text);
Value makeNumber(double number);
Value makeBool(bool flag);
Value makeList();
Value makeObject();
// Sets `key` of `object` (made an object if it was not one) to `value`.
void put(Value& object, const std::string& key, Value value);
void append(Value& list, Value value);

// One line of JSON: object keys sorted (the order Value keeps is none), integral numbers without
// a fraction, null members and elements left out. A null document gives "".
std::string toJson(const Value& value);
// A YAML document with the same content: keys sorted, block style, strings quoted where they
// would read back as something else ("true", "3", "").
std::string toYaml(const Value& value);

}  // namespace ambit::ctl::proxy
