// Istio's StringMatch compiled once per configuration snapshot: exact, prefix or an RE2 regex that
// must match the whole value (Envoy's safe_regex is a full match), or, without a type, "present".
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "istio/networking/v1alpha3/virtual_service.pb.h"

namespace re2 {
class RE2;
}  // namespace re2

namespace ambit::waypoint {

class StringMatcher {
 public:
  enum class Kind { kPresent, kExact, kPrefix, kRegex };

  struct Options {
    bool ignore_case = false;         // exact and prefix only (ignoreUriCase), as Envoy does
    bool star_means_present = false;  // withoutHeaders: regex "*" means "the header is present"
  };

  // Compiles `match`. A regex that RE2 refuses gives a matcher that never matches; `error` then
  // says why (it is left alone otherwise).
  static StringMatcher compile(const istio::networking::v1alpha3::StringMatch& match,
                               Options options, std::string* error);

  // Whether a present value satisfies the match. An absent value satisfies none, not even
  // kPresent: callers check presence first.
  bool matches(std::string_view value) const;

  Kind kind() const { return kind_; }
  const std::string& value() const { return value_; }
  // For explanations: `prefix "Mozilla"`, `regex "v[0-9]+"`, `present`; a regex that did not
  // compile says so.
  std::string describe() const;

 private:
  Kind kind_ = Kind::kPresent;
  std::string value_;
  bool ignore_case_ = false;
  std::shared_ptr<const re2::RE2> regex_;  // null for a regex that did not compile
};

}  // namespace ambit::waypoint
