#include "waypoint/route/string_match.h"

#include <absl/strings/str_cat.h>
#include <re2/re2.h>

#include "waypoint/route/text.h"

namespace ambit::waypoint {

namespace networking = istio::networking::v1alpha3;

StringMatcher StringMatcher::compile(const networking::StringMatch& match, Options options,
                                     std::string* error) {
  StringMatcher out;
  out.ignore_case_ = options.ignore_case;
  switch (match.match_type_case()) {
    case networking::StringMatch::kExact:
      out.kind_ = Kind::kExact;
      out.value_ = match.exact();
      break;
    case networking::StringMatch::kPrefix:
      out.kind_ = Kind::kPrefix;
      out.value_ = match.prefix();
      break;
    case networking::StringMatch::kRegex: {
      out.value_ = match.regex();
      if (options.star_means_present && out.value_ == "*") {
        out.kind_ = Kind::kPresent;
        break;
      }
      out.kind_ = Kind::kRegex;
      RE2::Options re2_options;
      re2_options.set_log_errors(false);
      auto regex = std::make_shared<const RE2>(out.value_, re2_options);
      if (regex->ok()) {
        out.regex_ = std::move(regex);
      } else if (error != nullptr) {
        *error = absl::StrCat("regex \"", out.value_, "\" does not compile (", regex->error(),
                              "): it never matches");
      }
      break;
    }
    case networking::StringMatch::MATCH_TYPE_NOT_SET:
      out.kind_ = Kind::kPresent;
      break;
  }
  return out;
}

bool StringMatcher::matches(std::string_view value) const {
  switch (kind_) {
    case Kind::kPresent:
      return true;
    case Kind::kExact:
      return ignore_case_ ? equalsIgnoreCase(value, value_) : value == value_;
    case Kind::kPrefix:
      return ignore_case_ ? startsWithIgnoreCase(value, value_) : value.starts_with(value_);
    case Kind::kRegex:
      return regex_ != nullptr && RE2::FullMatch(value, *regex_);
  }
  return false;
}

std::string StringMatcher::describe() const {
  switch (kind_) {
    case Kind::kPresent:
      return "present";
    case Kind::kExact:
      return absl::StrCat("exact \"", value_, "\"", ignore_case_ ? " (any case)" : "");
    case Kind::kPrefix:
      return absl::StrCat("prefix \"", value_, "\"", ignore_case_ ? " (any case)" : "");
    case Kind::kRegex:
      return absl::StrCat("regex \"", value_, "\"", regex_ ? "" : " (invalid)");
  }
  return "";
}

}  // namespace ambit::waypoint
