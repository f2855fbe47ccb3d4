#include "waypoint/proxy/request_security.h"

#include <absl/strings/str_cat.h>

#include <algorithm>

#include "waypoint/authz/path_normalization.h"
#include "waypoint/proxy/session_support.h"
#include "waypoint/route/http_match.h"

namespace ambit::waypoint {
namespace {

void removeHeader(HttpRequest& request, std::vector<std::pair<std::string, std::string>>& headers,
                  const std::string& name) {
  request.headers.remove(name);
  std::erase_if(headers, [&](const auto& h) { return h.first == name; });
}

void setHeader(HttpRequest& request, std::vector<std::pair<std::string, std::string>>& headers,
               const std::string& name, const std::string& value) {
  request.headers.set(name, value);
  std::erase_if(headers, [&](const auto& h) { return h.first == name; });
  headers.emplace_back(name, value);
}

SecurityOutcome refuse(int status, std::string body, std::string detail) {
  SecurityOutcome out;
  out.pass = false;
  out.status = status;
  out.body = std::move(body);
  out.detail = std::move(detail);
  return out;
}

}  // namespace

std::string rbacDetail(const L7AuthorizationDecision& decision) {
  // A CUSTOM policy asks an external authorizer, which does not exist here: Envoy's detail for
  // an authorizer that could not answer, failing closed.
  if (decision.reason == L7AuthorizationDecision::Reason::kDeniedCustom) return "ext_authz_error";
  // A DENY policy's rule matched: Envoy names it. A denial by what could not be evaluated may
  // come from an ALLOW policy, so it stays "[none]"; the explanation after it in the access log
  // names the policy.
  if (decision.reason == L7AuthorizationDecision::Reason::kDeniedByPolicy && decision.rule >= 0) {
    const size_t slash = decision.policy.find('/');
    return absl::StrCat("rbac_access_denied_matched_policy[ns[", decision.policy.substr(0, slash),
                        "]-policy[", decision.policy.substr(slash + 1), "]-rule[", decision.rule,
                        "]]");
  }
  return "rbac_access_denied_matched_policy[none]";
}

SecurityOutcome checkRequestSecurity(const WaypointSnapshot& snapshot, const SecurityPeer& peer,
                                     HttpRequest& request,
                                     std::vector<std::pair<std::string, std::string>>& headers,
                                     SecurityMetrics& metrics, int64_t now) {
  if (snapshot.security == nullptr) {
    return refuse(503, "no security config yet", "no security config yet");
  }
  const SecurityConfig& security = *snapshot.security;
  absl::StatusOr<std::string> normalized =
      normalizeRequestPath(request.target, security.normalization());
  if (!normalized.ok()) {
    metrics.pathRefused();
    return refuse(400, "Bad Request",
                  absl::StrCat("path_normalization_failed: ", normalized.status().message()));
  }
  request.target = std::move(*normalized);

  const ServiceSecurity& applying = security.forHost(peer.service_host);
  std::optional<RequestAuth> auth;
  if (applying.authn != nullptr) {
    AuthnResult authn =
        authenticateRequest(*applying.authn, headers, request.target, *snapshot.jwks, now);
    metrics.authentication(authn.kind);
    for (const std::string& name : authn.remove_headers) removeHeader(request, headers, name);
    if (authn.kind == AuthnResult::Kind::kInvalid) {
      SecurityOutcome out =
          refuse(401, authn.reason, absl::StrCat("jwt_authn_access_denied{", authn.reason, "}"));
      out.response_headers.emplace_back(
          "www-authenticate",
          absl::StrCat("Bearer realm=\"http://", std::string(request.authority()),
                       std::string(pathOnly(request.target)), "\", error=\"invalid_token\""));
      return out;
    }
    for (const auto& [name, value] : authn.set_headers) setHeader(request, headers, name, value);
    auth = std::move(authn.auth);
  }
  if (applying.policies.empty()) return {};

  L7RequestAttributes attributes;
  attributes.method = request.method;
  attributes.host = request.authority();
  attributes.path = request.target;
  attributes.destination_port = peer.destination_port;
  attributes.headers = &headers;
  attributes.source_principal = peer.principal;
  attributes.source_namespace = peer.source_namespace;
  attributes.source_ip = peer.source_ip;
  attributes.destination_ip = peer.destination_ip;
  attributes.auth = auth ? &*auth : nullptr;
  const L7AuthorizationDecision decision = authorizeRequest(applying.policies, attributes);
  metrics.authorization(decision);
  if (!decision.audited.empty()) {
    waypointLog()->info("audit: {} {}{} from {} matched AUDIT policy {}", request.method,
                        request.authority(), request.target,
                        peer.principal ? *peer.principal : std::string_view("(no identity)"),
                        decision.audited);
  }
  if (decision.allowed) return {};
  return refuse(403, "RBAC: access denied",
                absl::StrCat(rbacDetail(decision), " (", decision.describe(), ")"));
}

}  // namespace ambit::waypoint
