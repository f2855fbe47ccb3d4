#include "core/config/duration.h"

#include <array>
#include <cstdint>
#include <string>

namespace ambit::config {
namespace {

struct Unit {
  std::string_view suffix;
  int64_t nanos;
};

// Longest suffixes first so "ms" is not read as "m" followed by garbage.
constexpr std::array<Unit, 8> kUnits = {{{"ns", 1},
                                         {"us", 1000},
                                         {"\xC2\xB5s", 1000},  // U+00B5 micro sign
                                         {"ms", 1000000},
                                         {"s", 1000000000},
                                         {"m", 60LL * 1000000000},
                                         {"h", 3600LL * 1000000000},
                                         {"\xCE\xBCs", 1000}}};  // U+03BC Greek mu

constexpr int64_t kMaxNanos = INT64_MAX;

absl::Status badDuration(std::string_view text, const char* why) {
  return absl::InvalidArgumentError(absl::StrCat("bad duration \"", std::string(text), "\": ", why,
                                                 " (expected e.g. 10s, 1.5s, 100ms, 1m30s)"));
}

}  // namespace

absl::StatusOr<google::protobuf::Duration> parseDuration(std::string_view text) {
  std::string_view rest = text;
  bool negative = false;
  if (!rest.empty() && (rest[0] == '-' || rest[0] == '+')) {
    negative = rest[0] == '-';
    rest.remove_prefix(1);
  }
  if (rest == "0") return google::protobuf::Duration();
  if (rest.empty()) return badDuration(text, "empty");

  // Sum in nanoseconds as long double pieces to keep fractions exact enough, then bound-check.
  long double total = 0;
  while (!rest.empty()) {
    size_t i = 0;
    long double whole = 0;
    bool digits = false;
    while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') {
      whole = whole * 10 + (rest[i] - '0');
      ++i;
      digits = true;
    }
    long double fraction = 0;
    if (i < rest.size() && rest[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') {
        fraction += (rest[i] - '0') * scale;
        scale /= 10;
        ++i;
        digits = true;
      }
    }
    if (!digits) return badDuration(text, "missing number");
    rest.remove_prefix(i);
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (rest.substr(0, u.suffix.size()) == u.suffix &&
          (unit == nullptr || u.suffix.size() > unit->suffix.size())) {
        unit = &u;
      }
    }
    if (unit == nullptr) {
      return badDuration(text, rest.empty() ? "missing unit" : "unknown unit");
    }
    rest.remove_prefix(unit->suffix.size());
    total += (whole + fraction) * static_cast<long double>(unit->nanos);
    if (total > static_cast<long double>(kMaxNanos)) return badDuration(text, "too large");
  }
  const auto nanos = static_cast<int64_t>(total + 0.5L);
  google::protobuf::Duration out;
  out.set_seconds((negative ? -1 : 1) * (nanos / 1000000000));
  out.set_nanos(static_cast<int32_t>((negative ? -1 : 1) * (nanos % 1000000000)));
  return out;
}

std::string formatDuration(const google::protobuf::Duration& duration) {
  const int64_t nanos = duration.seconds() * 1000000000 + duration.nanos();
  if (nanos == 0) return "0s";
  const int64_t magnitude = nanos < 0 ? -nanos : nanos;
  const std::string sign = nanos < 0 ? "-" : "";
  if (magnitude % 1000000000 == 0) return absl::StrCat(sign, magnitude / 1000000000, "s");
  if (magnitude % 1000000 == 0) return absl::StrCat(sign, magnitude / 1000000, "ms");
  if (magnitude % 1000 == 0) return absl::StrCat(sign, magnitude / 1000, "us");
  return absl::StrCat(sign, magnitude, "ns");
}

}  // namespace ambit::config
