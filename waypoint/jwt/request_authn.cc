// RequestAuthentication: compiling the JWT rules, finding a request's tokens, choosing each
// token's rule by its issuer, and the header changes of a valid request.
#include "waypoint/jwt/request_authn.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <absl/strings/ascii.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/str_split.h>

#include "waypoint/jwt/token_cache.h"
#include "waypoint/route/text.h"

namespace ambit::waypoint {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;
using Location = CompiledRequestAuthn::Location;
using Rule = CompiledRequestAuthn::Rule;

// Istio's default token locations, used by a rule that names none.
constexpr std::string_view kDefaultHeader = "authorization";
constexpr std::string_view kDefaultPrefix = "Bearer ";
constexpr std::string_view kDefaultParam = "access_token";

constexpr std::string_view kBase64UrlAndDot =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";

// The tokens of several rules may share a location; the location lists them all.
void addLocation(std::vector<Location>& locations, Location::Kind kind, std::string name,
                 std::string prefix, size_t rule) {
  for (Location& location : locations) {
    if (location.kind == kind && location.name == name && location.prefix == prefix) {
      if (std::find(location.rules.begin(), location.rules.end(), rule) == location.rules.end()) {
        location.rules.push_back(rule);
      }
      return;
    }
  }
  locations.push_back(Location{kind, std::move(name), std::move(prefix), {rule}});
}

void addUnique(std::vector<std::string>& list, std::string value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(std::move(value));
}

// Where the rule's keys come from: inline `jwks` (parsed now), else `jwksUri` (fetched by the
// waypoint), else nothing the waypoint can use.
void compileKeys(const security::JWTRule& spec, const std::string& where, Rule& rule,
                 std::vector<std::string>& notes) {
  if (!spec.jwks().empty()) {
    absl::StatusOr<std::shared_ptr<const Jwks>> keys = parseJwks(spec.jwks());
    if (!keys.ok()) {
      rule.unusable = "Jwks doesn't have any valid public key";
      notes.push_back(absl::StrCat(
          where, ": jwks is not usable, its tokens are refused: ", keys.status().message()));
      return;
    }
    rule.inline_keys = *keys;
    for (const std::string& note : (*keys)->notes) {
      notes.push_back(absl::StrCat(where, ": jwks: ", note));
    }
  } else if (!spec.jwks_uri().empty()) {
    rule.jwks_uri = spec.jwks_uri();
  } else {
    // Istio would discover the URI from the issuer's OpenID configuration.
    rule.unusable = "Jwks remote fetch is failed";
    notes.push_back(absl::StrCat(where,
                                 ": neither jwks nor jwksUri; OpenID discovery from the issuer "
                                 "is not supported, so its tokens are refused"));
  }
}

Rule compileRule(const RequestAuthnEntry& entry, int index, const JwtCheckOptions& defaults,
                 std::vector<std::string>& notes) {
  const security::JWTRule& spec = entry.spec.jwt_rules(index);
  Rule rule;
  rule.policy = absl::StrCat(entry.namespace_, "/", entry.name);
  rule.index = index;
  rule.issuer = spec.issuer();
  rule.options = defaults;
  rule.options.audiences.assign(spec.audiences().begin(), spec.audiences().end());
  rule.forward_original_token = spec.forward_original_token();
  rule.payload_header = absl::AsciiStrToLower(spec.output_payload_to_header());
  const std::string where =
      absl::StrCat(rule.policy, " jwtRules[", index, "] (issuer \"", rule.issuer, "\")");
  for (const security::ClaimToHeader& claim : spec.output_claim_to_headers()) {
    if (claim.header().empty() || claim.claim().empty()) {
      notes.push_back(absl::StrCat(
          where, ": an outputClaimToHeaders entry without header or claim is ignored"));
      continue;
    }
    rule.claim_headers.emplace_back(absl::AsciiStrToLower(claim.header()), claim.claim());
  }
  compileKeys(spec, where, rule, notes);
  if (rule.issuer.empty()) {
    notes.push_back(absl::StrCat(
        where, ": no issuer; the rule takes tokens of any issuer no other rule claims"));
  }
  return rule;
}

// The token locations of a rule: those it names, else Istio's defaults.
void addLocations(const security::JWTRule& spec, size_t rule, std::vector<Location>& headers,
                  std::vector<Location>& params, std::vector<Location>& cookies) {
  for (const security::JWTHeader& header : spec.from_headers()) {
    addLocation(headers, Location::Kind::kHeader, absl::AsciiStrToLower(header.name()),
                header.prefix(), rule);
  }
  for (const std::string& param : spec.from_params()) {
    addLocation(params, Location::Kind::kParam, param, "", rule);
  }
  for (const std::string& cookie : spec.from_cookies()) {
    addLocation(cookies, Location::Kind::kCookie, cookie, "", rule);
  }
  if (spec.from_headers().empty() && spec.from_params().empty() && spec.from_cookies().empty()) {
    addLocation(headers, Location::Kind::kHeader, std::string(kDefaultHeader),
                std::string(kDefaultPrefix), rule);
    addLocation(params, Location::Kind::kParam, std::string(kDefaultParam), "", rule);
  }
}

}  // namespace

std::shared_ptr<const CompiledRequestAuthn> CompiledRequestAuthn::compile(
    const std::vector<RequestAuthnEntry>& entries, const JwtCheckOptions& defaults) {
  std::shared_ptr<CompiledRequestAuthn> out(new CompiledRequestAuthn());
  out->max_token_bytes_ = defaults.max_token_bytes;
  std::vector<Location> headers;
  std::vector<Location> params;
  std::vector<Location> cookies;
  for (const RequestAuthnEntry& entry : entries) {
    for (int i = 0; i < entry.spec.jwt_rules_size(); ++i) {
      Rule rule = compileRule(entry, i, defaults, out->notes_);
      addLocations(entry.spec.jwt_rules(i), out->rules_.size(), headers, params, cookies);
      if (!rule.jwks_uri.empty()) out->jwks_uris_.insert(rule.jwks_uri);
      if (!rule.payload_header.empty()) addUnique(out->sanitized_headers_, rule.payload_header);
      for (const auto& [header, claim] : rule.claim_headers) {
        addUnique(out->sanitized_headers_, header);
      }
      out->rules_.push_back(std::move(rule));
    }
  }
  for (std::vector<Location>* part : {&headers, &params, &cookies}) {
    for (Location& location : *part) out->locations_.push_back(std::move(location));
  }
  return out;
}

namespace {

struct FoundToken {
  const Location* location;
  std::string token;
};

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int high = hexValue(text[i + 1]);
      const int low = hexValue(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

// The first value of each query parameter of `target`, decoded.
std::vector<std::pair<std::string, std::string>> queryParams(std::string_view target) {
  std::vector<std::pair<std::string, std::string>> out;
  const size_t question = target.find('?');
  if (question == std::string_view::npos) return out;
  std::string_view query = target.substr(question + 1);
  query = query.substr(0, query.find('#'));
  for (const absl::string_view piece : absl::StrSplit(av(query), '&', absl::SkipEmpty())) {
    const std::string_view pair(piece.data(), piece.size());
    const size_t equals = pair.find('=');
    std::string name = percentDecode(pair.substr(0, equals));
    std::string value =
        equals == std::string_view::npos ? std::string() : percentDecode(pair.substr(equals + 1));
    out.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

// The value of cookie `name` in the request's cookie headers (the first one when repeated), its
// surrounding double quotes removed.
std::optional<std::string> cookieValue(
    const std::vector<std::pair<std::string, std::string>>& headers, std::string_view name) {
  for (const auto& [header, value] : headers) {
    if (header != "cookie") continue;
    for (const absl::string_view piece : absl::StrSplit(value, ';')) {
      const std::string_view cookie = trim(std::string_view(piece.data(), piece.size()));
      const size_t equals = cookie.find('=');
      if (equals == std::string_view::npos) continue;
      if (trim(cookie.substr(0, equals)) != name) continue;
      std::string_view text = trim(cookie.substr(equals + 1));
      if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
        text = text.substr(1, text.size() - 2);
      }
      return std::string(text);
    }
  }
  return std::nullopt;
}

// Envoy's extraction: for a header with a prefix, the prefix may be anywhere in the value and the
// token starts at the first base64url character after it; a value without the prefix holds no
// token for that location.
std::vector<FoundToken> findTokens(const CompiledRequestAuthn& authn,
                                   const std::vector<std::pair<std::string, std::string>>& headers,
                                   std::string_view target) {
  std::vector<FoundToken> found;
  std::optional<std::vector<std::pair<std::string, std::string>>> params;
  for (const Location& location : authn.locations()) {
    switch (location.kind) {
      case Location::Kind::kHeader:
        for (const auto& [name, value] : headers) {
          if (name != location.name) continue;
          std::string_view token = value;
          if (!location.prefix.empty()) {
            const size_t at = token.find(location.prefix);
            if (at == std::string_view::npos) continue;
            const size_t start = token.find_first_of(kBase64UrlAndDot, at + location.prefix.size());
            if (start != std::string_view::npos) token = token.substr(start);
          }
          found.push_back({&location, std::string(token)});
        }
        break;
      case Location::Kind::kParam: {
        if (!params) params = queryParams(target);
        const auto it = std::find_if(params->begin(), params->end(), [&](const auto& param) {
          return param.first == location.name;
        });
        if (it != params->end()) found.push_back({&location, it->second});
        break;
      }
      case Location::Kind::kCookie:
        if (std::optional<std::string> value = cookieValue(headers, location.name)) {
          found.push_back({&location, *std::move(value)});
        }
        break;
    }
  }
  return found;
}

absl::Status verifyWithRule(const Rule& rule, const ParsedJwt& jwt, const JwksLookup& lookup,
                            int64_t now, TokenCache::Entry& cached) {
  AMBIT_RETURN_IF_ERROR(checkJwtClaims(jwt, rule.options, now));
  if (!rule.unusable.empty()) return absl::UnauthenticatedError(rule.unusable);
  const std::shared_ptr<const Jwks> shared =
      rule.inline_keys ? rule.inline_keys : lookup.findShared(rule.jwks_uri);
  const Jwks* keys = shared ? shared.get() : lookup.find(rule.jwks_uri);
  if (keys == nullptr) return absl::UnauthenticatedError("Jwks remote fetch is failed");
  if (shared && cached.verifiedWith(shared)) return absl::OkStatus();
  AMBIT_RETURN_IF_ERROR(verifyJwtSignature(jwt, *keys));
  if (shared) cached.addVerified(shared);
  return absl::OkStatus();
}

// The claim at a '.'-separated path ("realm.roles"), or null.
const Value* claimAt(const Struct& payload, std::string_view path) {
  const Struct* current = &payload;
  const Value* found = nullptr;
  for (const absl::string_view name : absl::StrSplit(av(path), '.')) {
    if (current == nullptr) return nullptr;
    const auto it = current->fields().find(std::string(name.data(), name.size()));
    if (it == current->fields().end()) return nullptr;
    found = &it->second;
    current = found->kind_case() == Value::kStructValue ? &found->struct_value() : nullptr;
  }
  return found;
}

// A claim as a header value: strings as they are, numbers (integers without a fraction), booleans;
// other types, empty strings and text a header cannot carry give nothing (Istio: only string, int
// and bool claims are copied).
std::optional<std::string> claimHeaderValue(const Value& claim) {
  std::string text;
  switch (claim.kind_case()) {
    case Value::kStringValue:
      text = claim.string_value();
      break;
    case Value::kNumberValue: {
      const double number = claim.number_value();
      double whole = 0;
      if (std::modf(number, &whole) == 0 &&
          std::fabs(number) < static_cast<double>(std::numeric_limits<int64_t>::max())) {
        text = absl::StrCat(static_cast<int64_t>(number));
      } else {
        text = absl::StrCat(number);
      }
      break;
    }
    case Value::kBoolValue:
      text = claim.bool_value() ? "true" : "false";
      break;
    default:
      return std::nullopt;
  }
  const bool header_safe = std::all_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte == '\t' || (byte >= 0x20 && byte != 0x7f);
  });
  if (text.empty() || !header_safe) return std::nullopt;
  return text;
}

AuthnResult invalid(const CompiledRequestAuthn& authn, std::string reason) {
  AuthnResult result;
  result.kind = AuthnResult::Kind::kInvalid;
  result.reason = std::move(reason);
  result.remove_headers = authn.sanitizedHeaders();
  return result;
}

}  // namespace

AuthnResult authenticateRequest(const CompiledRequestAuthn& authn,
                                const std::vector<std::pair<std::string, std::string>>& headers,
                                std::string_view target, const JwksLookup& lookup,
                                int64_t now_unix_seconds) {
  AuthnResult result;
  result.remove_headers = authn.sanitizedHeaders();
  const std::vector<FoundToken> tokens = findTokens(authn, headers, target);
  if (tokens.empty()) return result;

  for (const FoundToken& found : tokens) {
    TokenCache::Entry& cached =
        TokenCache::forThisThread().lookup(found.token, authn.maxTokenBytes());
    if (!cached.parsed.ok()) return invalid(authn, std::string(cached.parsed.status().message()));
    const std::shared_ptr<const ParsedJwt> jwt = *cached.parsed;
    // The rules of this location for the token's issuer; else those that take any issuer.
    std::vector<const Rule*> candidates;
    for (const bool any_issuer : {false, true}) {
      for (const size_t index : found.location->rules) {
        const Rule& rule = authn.rules()[index];
        if (any_issuer ? rule.issuer.empty() : rule.issuer == jwt->issuer) {
          candidates.push_back(&rule);
        }
      }
      if (!candidates.empty() || jwt->issuer.empty()) break;
    }
    if (candidates.empty()) return invalid(authn, "Jwt issuer is not configured");

    const Rule* chosen = nullptr;
    absl::Status first_failure;
    for (const Rule* rule : candidates) {
      const absl::Status status = verifyWithRule(*rule, *jwt, lookup, now_unix_seconds, cached);
      if (status.ok()) {
        chosen = rule;
        break;
      }
      if (first_failure.ok()) first_failure = status;
    }
    if (chosen == nullptr) return invalid(authn, std::string(first_failure.message()));

    VerifiedJwt verified = verifiedJwt(*jwt);
    if (!chosen->payload_header.empty()) {
      result.set_headers.emplace_back(chosen->payload_header, verified.payload_base64url);
    }
    for (const auto& [header, path] : chosen->claim_headers) {
      const Value* claim = claimAt(verified.auth.claims, path);
      if (claim == nullptr) continue;
      if (std::optional<std::string> value = claimHeaderValue(*claim)) {
        result.set_headers.emplace_back(header, *std::move(value));
      }
    }
    if (!chosen->forward_original_token && found.location->kind == Location::Kind::kHeader) {
      addUnique(result.remove_headers, found.location->name);
    }
    if (!result.auth) result.auth = std::move(verified.auth);
  }
  result.kind = AuthnResult::Kind::kValid;
  return result;
}

}  // namespace ambit::waypoint
