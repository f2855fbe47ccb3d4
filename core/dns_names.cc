#include "core/dns_names.h"

#include <algorithm>
#include <string_view>

namespace ambit {
namespace {

bool isLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool isLabel(std::string_view value) {
  if (value.empty() || value.size() > 63) return false;
  if (!isLowerAlnum(value.front()) || !isLowerAlnum(value.back())) return false;
  return std::all_of(value.begin(), value.end(),
                     [](char c) { return isLowerAlnum(c) || c == '-'; });
}

}  // namespace

bool isDns1123Label(const std::string& value) { return isLabel(value); }

bool isDns1123Subdomain(const std::string& value) {
  if (value.empty() || value.size() > 253) return false;
  std::string_view rest = value;
  for (size_t dot = rest.find('.'); dot != std::string_view::npos; dot = rest.find('.')) {
    if (!isLabel(rest.substr(0, dot))) return false;
    rest.remove_prefix(dot + 1);
  }
  return isLabel(rest);
}

}  // namespace ambit
