// VirtualService HTTP routes: what a route does (route, redirect, direct response, delegate),
// matches, header operations, CORS, fault injection, mirrors, rewrites, retries and timeouts.
#include <absl/strings/ascii.h>
#include <absl/strings/match.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/str_split.h>

#include "core/config/validate/common.h"
#include "core/config/validate/kinds.h"
#include "core/config/validate/route.h"

namespace ambit::config::validate {
namespace {

namespace net = istio::networking::v1alpha3;

bool hasControlCharacters(const std::string& value) {
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && u != '\t') || u == 0x7f) return true;
  }
  return false;
}

bool isAuthorityHeader(const std::string& name) {
  return absl::EqualsIgnoreCase(name, ":authority") || absl::EqualsIgnoreCase(name, "host");
}

// Header operations: `settable` allows the authority (request set and add); removals and
// response headers may not touch "host" or pseudo-headers.
void checkHeaderOperationName(const std::string& name, bool settable, const std::string& path,
                              Issues& issues) {
  if (name.empty()) {
    issues.error(path, "header name must not be empty");
  } else if (settable && isAuthorityHeader(name)) {
    return;
  } else if (absl::EqualsIgnoreCase(name, "host")) {
    issues.error(path, "header \"host\" cannot be modified here; use rewrite.authority");
  } else if (name[0] == ':') {
    issues.error(path, absl::StrCat("header ", q(name),
                                    " cannot be modified: names starting with \":\" are reserved"));
  }
}

void checkHeaderOperations(const net::Headers::HeaderOperations& ops, bool request,
                           const std::string& path, Issues& issues) {
  for (const auto* map : {&ops.set(), &ops.add()}) {
    const std::string mp = field(path, map == &ops.set() ? "set" : "add");
    for (const std::string& name : sortedKeys(*map)) {
      checkHeaderOperationName(name, request, key(mp, name), issues);
      if (hasControlCharacters(map->at(name))) {
        issues.error(key(mp, name), absl::StrCat("header value ", q(map->at(name)),
                                                 " contains control characters"));
      }
    }
  }
  for (int i = 0; i < ops.remove_size(); ++i) {
    checkHeaderOperationName(ops.remove(i), false,
                             item(field(path, "remove"), static_cast<size_t>(i)), issues);
  }
}

void checkHeaders(const net::Headers& headers, const std::string& path, Issues& issues) {
  if (headers.has_request()) {
    checkHeaderOperations(headers.request(), true, field(path, "request"), issues);
  }
  if (headers.has_response()) {
    checkHeaderOperations(headers.response(), false, field(path, "response"), issues);
  }
}

void checkMatch(const net::HTTPMatchRequest& m, const std::string& path, Issues& issues) {
  for (const std::string& name : sortedKeys(m.headers())) {
    const std::string at = key(field(path, "headers"), name);
    checkMatchHeaderName(name, at, issues);
    checkStringMatch(issues, at, m.headers().at(name), StringMatchUse::kHeader);
  }
  for (const std::string& name : sortedKeys(m.without_headers())) {
    const std::string at = key(field(path, "withoutHeaders"), name);
    checkMatchHeaderName(name, at, issues);
    checkStringMatch(issues, at, m.without_headers().at(name), StringMatchUse::kWithoutHeader);
  }
  if (m.has_uri()) checkStringMatch(issues, field(path, "uri"), m.uri(), StringMatchUse::kUri);
  if (m.has_scheme()) {
    checkStringMatch(issues, field(path, "scheme"), m.scheme(), StringMatchUse::kStrict);
  }
  if (m.has_method()) {
    checkStringMatch(issues, field(path, "method"), m.method(), StringMatchUse::kStrict);
  }
  if (m.has_authority()) {
    checkStringMatch(issues, field(path, "authority"), m.authority(), StringMatchUse::kStrict);
  }
  for (const std::string& name : sortedKeys(m.query_params())) {
    const std::string at = key(field(path, "queryParams"), name);
    if (name.empty()) issues.error(at, "query parameter name must not be empty");
    checkStringMatch(issues, at, m.query_params().at(name), StringMatchUse::kHeader);
  }
  if (m.port() != 0) checkPort(issues, field(path, "port"), m.port());
  checkLabels(issues, field(path, "sourceLabels"), m.source_labels());
  checkGatewayNames(m.gateways(), field(path, "gateways"), issues);
  if (!m.source_namespace().empty() && !isIstioDnsLabel(m.source_namespace())) {
    issues.error(
        field(path, "sourceNamespace"),
        absl::StrCat("sourceNamespace ", q(m.source_namespace()), " is not a namespace name"));
  }
}

// Which of route, redirect, direct response and delegate a route uses, as Istio allows them.
void checkAction(const net::HTTPRoute& route, const std::string& path, bool delegate,
                 Issues& issues) {
  if (!delegate && route.has_delegate()) {
    if (route.has_redirect()) {
      issues.error(field(path, "redirect"), "a route that delegates must not set redirect");
    }
    if (route.route_size() > 0) {
      issues.error(field(path, "route"), "a route that delegates must not set route");
    }
    if (!route.delegate().name().empty() && !isDns1123Subdomain(route.delegate().name())) {
      issues.error(field(field(path, "delegate"), "name"),
                   absl::StrCat("delegate name ", q(route.delegate().name()),
                                " is not a valid object name"));
    } else if (route.delegate().name().empty()) {
      issues.error(field(field(path, "delegate"), "name"), "delegate name is required");
    }
    if (!route.delegate().namespace_().empty() && !isDns1123Label(route.delegate().namespace_())) {
      issues.error(field(field(path, "delegate"), "namespace"),
                   absl::StrCat("delegate namespace ", q(route.delegate().namespace_()),
                                " is not a namespace name"));
    }
    return;
  }
  if (delegate && route.has_delegate()) {
    issues.error(field(path, "delegate"), "a delegate virtual service cannot delegate again");
  }
  if (route.has_redirect()) {
    if (route.route_size() > 0) {
      issues.error(field(path, "route"), "route and redirect cannot both be set");
    }
    if (route.has_fault()) {
      issues.error(field(path, "fault"), "fault and redirect cannot both be set");
    }
    if (route.has_rewrite()) {
      issues.error(field(path, "rewrite"), "rewrite and redirect cannot both be set");
    }
    if (route.has_direct_response()) {
      issues.error(field(path, "directResponse"), "directResponse and redirect cannot both be set");
    }
  } else if (route.has_direct_response()) {
    if (route.route_size() > 0) {
      issues.error(field(path, "route"), "route and directResponse cannot both be set");
    }
    if (route.has_fault()) {
      issues.error(field(path, "fault"), "fault and directResponse cannot both be set");
    }
    if (route.has_rewrite()) {
      issues.error(field(path, "rewrite"), "rewrite and directResponse cannot both be set");
    }
  } else if (route.route_size() == 0) {
    issues.error(path, "one of route, redirect, directResponse or delegate is required");
  }
  if (route.has_mirror() && route.mirrors_size() > 0) {
    issues.error(field(path, "mirrors"), "mirror and mirrors cannot both be set");
  }
}

void checkRedirect(const net::HTTPRoute& route, const std::string& path, Issues& issues) {
  const net::HTTPRedirect& r = route.redirect();
  if (!r.uri().empty() && !r.prefix_rewrite().empty()) {
    issues.error(field(path, "prefixRewrite"), "uri and prefixRewrite cannot both be set");
  }
  if (!r.prefix_rewrite().empty()) {
    for (const net::HTTPMatchRequest& m : route.match()) {
      if (m.has_uri() && m.uri().match_type_case() != net::StringMatch::kPrefix) {
        issues.error(field(path, "prefixRewrite"),
                     "prefixRewrite needs every uri match of the route to be a prefix match");
        break;
      }
    }
  }
  if (r.uri().empty() && r.prefix_rewrite().empty() && r.authority().empty() &&
      r.scheme().empty() && r.redirect_port_case() == net::HTTPRedirect::REDIRECT_PORT_NOT_SET) {
    issues.error(path,
                 "redirect needs at least one of uri, prefixRewrite, authority, scheme, "
                 "port or derivePort");
  }
  if (r.redirect_code() != 0 && (r.redirect_code() < 300 || r.redirect_code() > 399)) {
    issues.error(field(path, "redirectCode"),
                 absl::StrCat("redirectCode must be between 300 and 399, got ", r.redirect_code()));
  }
  if (!r.scheme().empty() && r.scheme() != "http" && r.scheme() != "https") {
    issues.error(field(path, "scheme"),
                 absl::StrCat("scheme must be \"http\" or \"https\", got ", q(r.scheme())));
  }
  if (r.redirect_port_case() == net::HTTPRedirect::kPort) {
    checkPort(issues, field(path, "port"), r.port());
  }
}

void checkDirectResponse(const net::HTTPDirectResponse& response, const std::string& path,
                         Issues& issues) {
  if (response.status() < 200 || response.status() > 599) {
    issues.error(field(path, "status"),
                 absl::StrCat("status must be between 200 and 599, got ", response.status()));
  }
  const size_t size = response.body().has_string() ? response.body().string().size()
                                                   : response.body().bytes().size();
  if (size > 1024 * 1024) {
    issues.error(field(path, "body"),
                 absl::StrCat("body is ", size, " bytes; at most 1MiB (1048576 bytes) is allowed"));
  } else if (size > 100 * 1024) {
    issues.warning(field(path, "body"), absl::StrCat("body is ", size,
                                                     " bytes; bodies over 100KiB slow down "
                                                     "configuration updates"));
  }
}

void checkRewrite(const net::HTTPRoute& route, const std::string& path, Issues& issues) {
  const net::HTTPRewrite& r = route.rewrite();
  if (!r.uri().empty() && r.has_uri_regex_rewrite()) {
    issues.error(field(path, "uriRegexRewrite"), "uri and uriRegexRewrite cannot both be set");
  }
  if (r.uri().empty() && !r.has_uri_regex_rewrite() && r.authority().empty()) {
    issues.error(path, "rewrite needs at least one of uri, uriRegexRewrite or authority");
  }
  if (r.has_uri_regex_rewrite()) {
    const std::string rp = field(path, "uriRegexRewrite");
    if (r.uri_regex_rewrite().match().empty()) {
      issues.error(field(rp, "match"), "match is required");
    } else {
      checkRegex(issues, field(rp, "match"), r.uri_regex_rewrite().match());
    }
    if (r.uri_regex_rewrite().rewrite().empty()) {
      issues.error(field(rp, "rewrite"), "rewrite is required");
    }
  }
}

// The authority may be rewritten in one place only: rewrite.authority or a host header.
void checkAuthorityRewrites(const net::HTTPRoute& route, const std::string& path, Issues& issues) {
  int count = route.rewrite().authority().empty() ? 0 : 1;
  for (const auto* map : {&route.headers().request().set(), &route.headers().request().add()}) {
    for (const auto& entry : *map) count += isAuthorityHeader(entry.first) ? 1 : 0;
  }
  if (count > 1) {
    issues.error(field(path, "headers"),
                 "the authority is rewritten more than once (rewrite.authority and \"host\" or "
                 "\":authority\" headers); set it in one place");
  }
}

}  // namespace

bool isJwtClaimHeader(const std::string& name) {
  return absl::StartsWith(name, "@request.auth.claims.") ||
         absl::StartsWith(name, "@request.auth.claims[");
}

void checkMatchHeaderName(const std::string& name, const std::string& path, Issues& issues) {
  if (name.empty()) {
    issues.error(path, "header name must not be empty");
    return;
  }
  if (isJwtClaimHeader(name)) return;
  if (name == ":method" || name == ":scheme" || name == ":authority" || name == ":path" ||
      name == ":status") {
    return;
  }
  if (!isHttpHeaderName(name)) {
    issues.error(path, absl::StrCat("header name ", q(name), " is not a valid HTTP header name"));
    return;
  }
  if (name != absl::AsciiStrToLower(name)) {
    issues.warning(path, absl::StrCat("header name ", q(name),
                                      " should be lowercase: ", q(absl::AsciiStrToLower(name))));
  }
}

void validateHttpRoute(const net::HTTPRoute& route, const std::string& path, bool delegate,
                       Issues& issues) {
  checkAction(route, path, delegate, issues);
  for (int j = 0; j < route.match_size(); ++j) {
    checkMatch(route.match(j), item(field(path, "match"), static_cast<size_t>(j)), issues);
  }
  if (route.has_headers()) checkHeaders(route.headers(), field(path, "headers"), issues);
  checkAuthorityRewrites(route, path, issues);
  if (route.has_cors_policy()) checkCors(route.cors_policy(), field(path, "corsPolicy"), issues);
  if (route.has_fault()) checkFault(route.fault(), field(path, "fault"), issues);
  checkMirrors(route, path, issues);
  if (route.has_redirect()) checkRedirect(route, field(path, "redirect"), issues);
  if (route.has_direct_response()) {
    checkDirectResponse(route.direct_response(), field(path, "directResponse"), issues);
  }
  if (route.has_retries()) validateHttpRetry(route.retries(), field(path, "retries"), issues);
  if (route.has_rewrite()) checkRewrite(route, field(path, "rewrite"), issues);
  checkRouteDestinations(route.route(), field(path, "route"), issues);
  for (int i = 0; i < route.route_size(); ++i) {
    if (route.route(i).has_headers()) {
      checkHeaders(route.route(i).headers(),
                   field(item(field(path, "route"), static_cast<size_t>(i)), "headers"), issues);
    }
  }
  if (route.has_timeout())
    checkDuration(issues, field(path, "timeout"), route.timeout(), "timeout");
}

}  // namespace ambit::config::validate
