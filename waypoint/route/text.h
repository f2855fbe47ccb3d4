// Small text helpers for the route code, which takes std::string_view (the Abseil build in use
// has its own absl::string_view, not an alias of it).
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

#include <absl/strings/ascii.h>
#include <absl/strings/string_view.h>

namespace ambit::waypoint {

// For absl::StrCat and the other Abseil string functions.
inline absl::string_view av(std::string_view text) {
  return absl::string_view(text.data(), text.size());
}

inline std::string toLower(std::string_view text) { return absl::AsciiStrToLower(av(text)); }

inline bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return absl::ascii_tolower(static_cast<unsigned char>(x)) ==
                  absl::ascii_tolower(static_cast<unsigned char>(y));
         });
}

inline bool startsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && equalsIgnoreCase(text.substr(0, prefix.size()), prefix);
}

}  // namespace ambit::waypoint
