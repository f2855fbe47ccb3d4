// The value forms of AuthorizationPolicy fields, compiled once per configuration: Istio's string
// values with a "*" wildcard, path templates ("{*}", "{**}") and IP addresses and ranges.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <absl/status/statusor.h>

namespace ambit::waypoint {

// An Istio string value: "*" alone matches any value, "*abc" is a suffix, "abc*" a prefix, and
// anything else exact (a "*" elsewhere is an ordinary character). Values are compared as bytes,
// or ASCII case-insensitively when compiled so (hosts).
class ValueMatcher {
 public:
  enum class Kind { kExact, kPrefix, kSuffix, kAny };

  explicit ValueMatcher(std::string_view value, bool ignore_case = false);

  // Whether a value that is present satisfies the match. Callers decide what "present" means
  // (no peer identity, no JWT, no such header: no value at all, so not even "*" matches).
  bool matches(std::string_view value) const;
  Kind kind() const { return kind_; }

 private:
  Kind kind_ = Kind::kExact;
  std::string text_;  // without the "*"
  bool ignore_case_ = false;
};

// A paths/notPaths value. One holding "{*}" or "{**}" is a URI template, as Istio 1.22+ reads it
// (Envoy's uri_template): "{*}" is one whole path segment of one or more characters, "{**}" the
// rest of the path from there, "/" included, possibly empty; "{**}" must be the last operator, and
// no segment may mix an operator with other characters or hold "*", "{" or "}" otherwise. So
// "/foo/{*}" matches "/foo/bar" but not "/foo/bar/baz" nor "/foo/"; "/foo/{**}" matches "/foo/",
// "/foo/a" and "/foo/a/b" but not "/foo". Envoy limits the operators to RFC 3986 path characters;
// here they take any byte but "/" (for "{*}"), so a DENY template cannot be sidestepped with a
// character Envoy's set leaves out. Any other value is a ValueMatcher (case-sensitive).
class PathMatcher {
 public:
  // InvalidArgument, with the reason, for a template that breaks the rules above.
  static absl::StatusOr<PathMatcher> compile(std::string_view value);

  // `path` without its query.
  bool matches(std::string_view path) const;

 private:
  struct Piece {
    enum class Kind { kLiteral, kSegment, kRest } kind = Kind::kLiteral;
    std::string literal;
  };

  explicit PathMatcher(ValueMatcher value) : value_(std::move(value)) {}
  explicit PathMatcher(std::vector<Piece> pieces) : value_(""), pieces_(std::move(pieces)) {}

  ValueMatcher value_;
  std::vector<Piece> pieces_;  // a template when not empty
};

// An IPv4 or IPv6 address; an IPv4-mapped IPv6 address ("::ffff:10.0.0.1") is taken as the
// IPv4 address, so it cannot slip past an IPv4 range.
struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // the first 4 for IPv4

  // An address literal, without brackets, port or zone; nullopt otherwise.
  static std::optional<IpAddress> parse(std::string_view text);
};

// An ipBlocks value: "10.0.0.0/8", "fd00::/64" or a single address.
struct IpRange {
  IpAddress base;
  int prefix = 0;

  // nullopt when malformed (a bad address, a prefix length out of range or not a number).
  static std::optional<IpRange> parse(std::string_view text);
  // Whether `ip` lies in the range; an address of the other family never does.
  bool contains(const IpAddress& ip) const;
};

}  // namespace ambit::waypoint
