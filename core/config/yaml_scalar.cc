#include "core/config/yaml_scalar.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace ambit::config {
namespace {

bool isPlain(const YAML::Node& node) { return node.Tag() == "?"; }

bool allOf(std::string_view text, bool (*pred)(char)) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!pred(c)) return false;
  }
  return true;
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isHex(char c) { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool isOctal(char c) { return c >= '0' && c <= '7'; }

// Parses the magnitude of an integer in any YAML 1.2 core form; nullopt on overflow.
std::optional<uint64_t> parseMagnitude(std::string_view text) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'o')) {
    base = text[1] == 'x' ? 16 : 8;
    text.remove_prefix(2);
    if (!allOf(text, base == 16 ? isHex : isOctal)) return std::nullopt;
  } else if (!allOf(text, isDigit)) {
    return std::nullopt;
  }
  uint64_t value = 0;
  for (char c : text) {
    const uint64_t digit = isDigit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / base) return std::nullopt;
    value = value * base + digit;
  }
  return value;
}

bool looksLikeFloat(std::string_view t) {
  if (!t.empty() && (t[0] == '-' || t[0] == '+')) t.remove_prefix(1);
  if (t == ".inf" || t == ".Inf" || t == ".INF") return true;
  size_t i = 0;
  bool digits = false;
  while (i < t.size() && isDigit(t[i])) ++i, digits = true;
  if (i < t.size() && t[i] == '.') {
    ++i;
    while (i < t.size() && isDigit(t[i])) ++i, digits = true;
  }
  if (!digits) return false;
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '-' || t[i] == '+')) ++i;
    if (i == t.size()) return false;
    while (i < t.size() && isDigit(t[i])) ++i;
  }
  return i == t.size();
}

}  // namespace

ScalarType scalarType(const YAML::Node& node) {
  if (node.IsNull()) return ScalarType::kNull;
  if (!isPlain(node)) return ScalarType::kString;
  const std::string& text = node.Scalar();
  if (parseBool(text)) return ScalarType::kBool;
  if (parseInt64(text) || parseUint64(text)) return ScalarType::kInt;
  if (text == ".nan" || text == ".NaN" || text == ".NAN" || looksLikeFloat(text)) {
    return ScalarType::kFloat;
  }
  return ScalarType::kString;
}

const char* scalarTypeName(ScalarType type) {
  switch (type) {
    case ScalarType::kNull:
      return "null";
    case ScalarType::kBool:
      return "boolean";
    case ScalarType::kInt:
      return "integer";
    case ScalarType::kFloat:
      return "number";
    case ScalarType::kString:
      return "string";
  }
  return "string";
}

std::optional<int64_t> parseInt64(std::string_view text) {
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  const auto magnitude = parseMagnitude(text);
  if (!magnitude) return std::nullopt;
  constexpr uint64_t kMaxPositive = std::numeric_limits<int64_t>::max();
  if (negative) {
    if (*magnitude > kMaxPositive + 1) return std::nullopt;
    return static_cast<int64_t>(0 - *magnitude);
  }
  if (*magnitude > kMaxPositive) return std::nullopt;
  return static_cast<int64_t>(*magnitude);
}

std::optional<uint64_t> parseUint64(std::string_view text) {
  if (!text.empty() && text[0] == '+') text.remove_prefix(1);
  return parseMagnitude(text);
}

std::optional<double> parseDouble(std::string_view text) {
  if (text == ".nan" || text == ".NaN" || text == ".NAN" || text == "NaN") {
    return std::numeric_limits<double>::quiet_NaN();
  }
  std::string_view body = text;
  const bool negative = !body.empty() && body[0] == '-';
  if (!body.empty() && (body[0] == '-' || body[0] == '+')) body.remove_prefix(1);
  if (body == ".inf" || body == ".Inf" || body == ".INF" || body == "Infinity") {
    return negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  }
  if (auto i = parseInt64(text)) return static_cast<double>(*i);
  if (!looksLikeFloat(text)) return std::nullopt;
  const std::string copy(text);
  errno = 0;
  char* end = nullptr;
  const double value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || errno == ERANGE) return std::nullopt;
  return value;
}

std::optional<bool> parseBool(std::string_view text) {
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  return std::nullopt;
}

}  // namespace ambit::config
