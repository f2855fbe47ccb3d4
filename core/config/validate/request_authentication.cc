// RequestAuthentication: workload selection and JWT rules (issuer, keys, token locations and
// claims copied to headers).
#include <algorithm>

#include <absl/strings/ascii.h>
#include <absl/strings/str_cat.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "core/config/validate/common.h"
#include "core/config/validate/kinds.h"
#include "core/port_number.h"

namespace ambit::config::validate {
namespace {

namespace sec = istio::security::v1beta1;

// Why `uri` is not an http(s) URL with a host, or "".
std::string urlProblem(const std::string& uri) {
  const size_t colon = uri.find("://");
  if (colon == std::string::npos) return "expected an http:// or https:// URL";
  const std::string scheme = absl::AsciiStrToLower(uri.substr(0, colon));
  if (scheme != "http" && scheme != "https") {
    return absl::StrCat("scheme ", q(uri.substr(0, colon)), " is not supported; use http or https");
  }
  const size_t start = colon + 3;
  const size_t end = std::min(uri.find_first_of("/?#", start), uri.size());
  std::string authority = uri.substr(start, end - start);
  if (const size_t at = authority.rfind('@'); at != std::string::npos) {
    authority = authority.substr(at + 1);
  }
  std::string host = authority;
  std::string port;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string::npos) return "the IPv6 host has no closing \"]\"";
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return "unexpected text after the host";
      port = authority.substr(close + 2);
    }
  } else if (const size_t c = authority.rfind(':'); c != std::string::npos) {
    host = authority.substr(0, c);
    port = authority.substr(c + 1);
  }
  if (host.empty()) return "it has no host";
  if (!port.empty()) {
    if (!parsePortNumber(port)) {
      return absl::StrCat("port ", q(port), " is not a number between 1 and 65535");
    }
  }
  return "";
}

bool isStrictHeaderName(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

void checkNonEmpty(const google::protobuf::RepeatedPtrField<std::string>& values,
                   const std::string& path, const char* message, Issues& issues) {
  for (int i = 0; i < values.size(); ++i) {
    if (values[i].empty()) issues.error(item(path, static_cast<size_t>(i)), message);
  }
}

void checkJwtRule(const sec::JWTRule& rule, const std::string& path, Issues& issues) {
  checkNonEmpty(rule.audiences(), field(path, "audiences"), "audience must not be empty", issues);
  if (rule.issuer().empty() && rule.jwks_uri().empty()) {
    issues.error(field(path, "issuer"), "issuer is required (or jwksUri)");
  }
  if (!rule.jwks_uri().empty()) {
    if (const std::string problem = urlProblem(rule.jwks_uri()); !problem.empty()) {
      issues.error(field(path, "jwksUri"),
                   absl::StrCat("jwksUri ", q(rule.jwks_uri()), " is invalid: ", problem));
    }
  }
  if (!rule.jwks().empty()) {
    google::protobuf::Struct keys;
    if (!google::protobuf::util::JsonStringToMessage(rule.jwks(), &keys).ok()) {
      issues.error(field(path, "jwks"), "jwks is not a JSON object (a JSON Web Key Set)");
    }
    if (!rule.jwks_uri().empty()) {
      issues.warning(field(path, "jwks"),
                     "jwks and jwksUri are both set; jwks is used and "
                     "jwksUri is ignored");
    }
  }
  for (int i = 0; i < rule.from_headers_size(); ++i) {
    const std::string& name = rule.from_headers(i).name();
    const std::string at = field(item(field(path, "fromHeaders"), static_cast<size_t>(i)), "name");
    if (name.empty()) {
      issues.error(at, "header name must not be empty");
    } else if (!isHttpHeaderName(name)) {
      issues.error(at, absl::StrCat("header name ", q(name), " is not a valid HTTP header name"));
    }
  }
  checkNonEmpty(rule.from_params(), field(path, "fromParams"),
                "query parameter name must not be empty", issues);
  checkNonEmpty(rule.from_cookies(), field(path, "fromCookies"), "cookie name must not be empty",
                issues);
  for (int i = 0; i < rule.output_claim_to_headers_size(); ++i) {
    const sec::ClaimToHeader& c = rule.output_claim_to_headers(i);
    const std::string at = item(field(path, "outputClaimToHeaders"), static_cast<size_t>(i));
    if (c.header().empty() || c.claim().empty()) {
      issues.error(at, "header and claim are both required");
    } else if (!isStrictHeaderName(c.header())) {
      issues.error(field(at, "header"), absl::StrCat("header ", q(c.header()),
                                                     " is invalid: use letters, digits, '-' and "
                                                     "'_'"));
    }
  }
  if (!rule.output_payload_to_header().empty() &&
      !isStrictHeaderName(rule.output_payload_to_header())) {
    issues.error(field(path, "outputPayloadToHeader"),
                 absl::StrCat("header ", q(rule.output_payload_to_header()),
                              " is invalid: use letters, digits, '-' and '_'"));
  }
  if (rule.has_timeout()) checkDuration(issues, field(path, "timeout"), rule.timeout(), "timeout");
}

}  // namespace

void validateRequestAuthentication(const sec::RequestAuthentication& spec, Issues& issues) {
  checkPolicyTargets(issues, spec);
  for (int i = 0; i < spec.jwt_rules_size(); ++i) {
    checkJwtRule(spec.jwt_rules(i), item("spec.jwtRules", static_cast<size_t>(i)), issues);
  }
}

}  // namespace ambit::config::validate
