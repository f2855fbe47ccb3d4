// How a YAML scalar reads under the YAML 1.2 core schema: plain `true`, `12`, `1.5` and `null`
// are typed; quoted scalars are always strings. The decoder uses this to reject wrong types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

namespace ambit::config {

enum class ScalarType { kNull, kBool, kInt, kFloat, kString };

ScalarType scalarType(const YAML::Node& node);
const char* scalarTypeName(ScalarType type);  // "null", "boolean", "integer", ...

// Integer forms of YAML 1.2 core (decimal, 0x hex, 0o octal); nullopt when not an integer or out
// of the int64/uint64 range.
std::optional<int64_t> parseInt64(std::string_view text);
std::optional<uint64_t> parseUint64(std::string_view text);
// Decimal and exponent forms plus .inf/-.inf/.nan and JSON's "NaN", "Infinity", "-Infinity".
std::optional<double> parseDouble(std::string_view text);
std::optional<bool> parseBool(std::string_view text);

}  // namespace ambit::config
