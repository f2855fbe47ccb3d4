// Istio's RequestAuthentication applied to one request, as Envoy's jwt_authn filter applies the
// configuration Istio generates for it: the JWT rules of every RequestAuthentication that applies
// are compiled once per config change into a CompiledRequestAuthn, and authenticateRequest finds
// the tokens of a request, chooses each one's rule by its issuer and verifies it.
//
// Outcomes, Istio's: a request without any token passes with no request identity (an
// AuthorizationPolicy decides whether that is enough); a request whose tokens are all valid
// passes with the identity of the first; a request with any token that is not valid is refused
// (401), whatever the other tokens. Key sets that are unknown (a jwksUri not fetched yet, or
// failing; a discovery the waypoint does not do; an inline jwks without a usable key) refuse the
// tokens of their rule: authentication fails closed.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "istio/security/v1beta1/request_authentication.pb.h"
#include "waypoint/authz/request_auth.h"
#include "waypoint/jwt/jwks.h"
#include "waypoint/jwt/jwt.h"

namespace ambit::waypoint {

namespace security = ::istio::security::v1beta1;

// One RequestAuthentication that applies to the waypoint's traffic.
struct RequestAuthnEntry {
  std::string namespace_;
  std::string name;
  security::RequestAuthentication spec;
};

// The key sets fetched from jwksUris, filled by the waypoint's fetcher.
class JwksLookup {
 public:
  virtual ~JwksLookup() = default;
  // The keys last fetched from `uri`; null while none were (not fetched yet, or every fetch
  // failed). The set must stay alive for the duration of the authenticateRequest call.
  virtual const Jwks* find(std::string_view uri) const = 0;
  // The same set as a shared object, so that the verified-token cache (token_cache.h) may keep it;
  // null when the lookup cannot share it (then signatures are verified on every request).
  virtual std::shared_ptr<const Jwks> findShared(std::string_view /*uri*/) const { return nullptr; }
};

class CompiledRequestAuthn {
 public:
  // One JWT rule, ready to verify.
  struct Rule {
    std::string policy;  // "namespace/name" of its RequestAuthentication
    int index = 0;       // in the policy's jwtRules
    std::string issuer;  // empty: any issuer the other rules of its locations do not claim
    JwtCheckOptions options;
    std::shared_ptr<const Jwks> inline_keys;  // from `jwks`, which wins over `jwksUri`
    std::string jwks_uri;                     // when the keys are fetched
    std::string unusable;  // non-empty: tokens of this rule are refused with this reason
    bool forward_original_token = false;
    std::string payload_header;                                      // lower case; empty: none
    std::vector<std::pair<std::string, std::string>> claim_headers;  // {header, claim path}
  };

  // Where tokens are looked for, shared by the rules that name it.
  struct Location {
    enum class Kind { kHeader, kParam, kCookie };
    Kind kind = Kind::kHeader;
    std::string name;    // header names in lower case
    std::string prefix;  // headers: the text before the token ("Bearer ")
    std::vector<size_t> rules;
  };

  // Compiles the rules of `entries` in order. `defaults` gives the token size limit and the
  // clock skew; each rule brings its audiences. Rules that cannot verify anything are kept and
  // fail closed, with a note.
  static std::shared_ptr<const CompiledRequestAuthn> compile(
      const std::vector<RequestAuthnEntry>& entries, const JwtCheckOptions& defaults = {});

  // No rule: nothing to authenticate.
  bool empty() const { return rules_.empty(); }
  const std::vector<Rule>& rules() const { return rules_; }
  // Headers first, then query parameters, then cookies, each in the order rules name them.
  const std::vector<Location>& locations() const { return locations_; }
  // Every output header of every rule: removed from each request so that clients cannot forge
  // them.
  const std::vector<std::string>& sanitizedHeaders() const { return sanitized_headers_; }
  // The jwksUris the rules need, for the fetcher.
  const std::set<std::string>& jwksUris() const { return jwks_uris_; }
  // What compiling found worth a log line ("default/jwt-auth jwtRules[0]: ...").
  const std::vector<std::string>& notes() const { return notes_; }
  size_t maxTokenBytes() const { return max_token_bytes_; }

 private:
  CompiledRequestAuthn() = default;

  std::vector<Rule> rules_;
  std::vector<Location> locations_;
  std::vector<std::string> sanitized_headers_;
  std::set<std::string> jwks_uris_;
  std::vector<std::string> notes_;
  size_t max_token_bytes_ = 0;
};

struct AuthnResult {
  enum class Kind {
    kNoToken,  // no token anywhere a rule looks: passes without a RequestAuth
    kValid,    // every token found is valid
    kInvalid,  // some token is not: respond 401
  };
  Kind kind = Kind::kNoToken;
  std::string reason;               // kInvalid: Envoy's reason, for the 401 body and the log
  std::optional<RequestAuth> auth;  // kValid: the identity of the first valid token
  // Header changes for the request sent upstream, lower-case names, applied in this order:
  // removals (on every request the rules' output headers, which a client must not be able to
  // forge; when valid also the headers that carried tokens not to be forwarded), then sets (when
  // valid, outputPayloadToHeader and outputClaimToHeaders).
  std::vector<std::string> remove_headers;
  std::vector<std::pair<std::string, std::string>> set_headers;
};

// `headers` have lower-case names; `target` is the request's path with its query. Tokens are
// parsed and their signatures verified through the calling thread's TokenCache, which changes no
// outcome, only its cost.
AuthnResult authenticateRequest(const CompiledRequestAuthn& authn,
                                const std::vector<std::pair<std::string, std::string>>& headers,
                                std::string_view target, const JwksLookup& lookup,
                                int64_t now_unix_seconds);

}  // namespace ambit::waypoint
