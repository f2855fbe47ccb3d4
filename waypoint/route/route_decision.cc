#include "waypoint/route/route_decision.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include <absl/strings/str_cat.h>
#include <absl/strings/str_join.h>
#include <re2/re2.h>

#include "waypoint/route/text.h"

namespace ambit::waypoint {
namespace {

const HeaderPlan kNoHeaders;

std::string routeLabel(const HttpRouteRule& rule) {
  std::string out = absl::StrCat(rule.virtual_service, " route ", rule.index);
  if (!rule.name.empty()) absl::StrAppend(&out, " \"", rule.name, "\"");
  return out;
}

// The length of the path prefix that `match` matched: Envoy's prefix_rewrite replaces it.
size_t matchedPrefix(const HttpMatch* match, std::string_view path) {
  if (match == nullptr || !match->uri) return path.empty() ? 0 : 1;  // Envoy's prefix "/"
  if (match->uri->kind() == StringMatcher::Kind::kPrefix) return match->uri->value().size();
  return path.size();  // exact and regex matches: the whole path
}

std::optional<std::string> rewritePath(const HttpRouteRule& rule, const HttpMatch* match,
                                       std::string_view target) {
  const std::string_view path = pathOnly(target);
  const std::string_view query = target.substr(path.size());
  if (rule.rewrite_regex != nullptr) {
    std::string out(path);
    RE2::GlobalReplace(&out, *rule.rewrite_regex, rule.rewrite_substitution);
    return absl::StrCat(out, av(query));
  }
  if (rule.rewrite_uri) {
    return absl::StrCat(*rule.rewrite_uri, av(path.substr(matchedPrefix(match, path))), av(query));
  }
  return std::nullopt;
}

// Splits "host:port", "[v6]:port", "host" into host and port text.
std::pair<std::string_view, std::string_view> splitAuthority(std::string_view authority) {
  const size_t colon = authority.rfind(':');
  if (colon == std::string_view::npos) return {authority, {}};
  const size_t bracket = authority.rfind(']');
  if (bracket != std::string_view::npos && bracket > colon) return {authority, {}};
  return {authority.substr(0, colon), authority.substr(colon + 1)};
}

bool defaultPort(std::string_view scheme, std::string_view port) {
  return (scheme == "http" && port == "80") || (scheme == "https" && port == "443");
}

// Envoy's redirect, as Istio configures it from an HTTPRedirect.
RedirectAction redirectFor(const HttpRouteRule& rule, const HttpMatch* match,
                           const RequestView& request) {
  const networking::HTTPRedirect& in = *rule.redirect;
  RedirectAction out;
  out.status = in.redirect_code() != 0 ? in.redirect_code() : 301;
  const std::string_view request_scheme = request.scheme.empty() ? "http" : request.scheme;
  out.scheme = in.scheme().empty() ? std::string(request_scheme) : in.scheme();

  auto [host, port] = splitAuthority(request.authority);
  if (!in.authority().empty()) std::tie(host, port) = splitAuthority(in.authority());
  std::string port_text(port);
  if (in.redirect_port_case() == networking::HTTPRedirect::kPort) {
    port_text = absl::StrCat(in.port());
  } else if (in.redirect_port_case() == networking::HTTPRedirect::kDerivePort) {
    port_text = in.derive_port() == networking::HTTPRedirect::FROM_REQUEST_PORT
                    ? absl::StrCat(request.port)
                    : "";
  } else if (out.scheme != request_scheme && in.authority().empty()) {
    port_text.clear();  // the old scheme's port means nothing to the new one
  }
  out.authority = port_text.empty() || defaultPort(out.scheme, port_text)
                      ? std::string(host)
                      : absl::StrCat(av(host), ":", port_text);

  const std::string_view path = pathOnly(request.path);
  const std::string_view query = request.path.substr(path.size());
  if (!in.uri().empty()) {
    out.path =
        in.uri().find('?') != std::string::npos ? in.uri() : absl::StrCat(in.uri(), av(query));
  } else if (!in.prefix_rewrite().empty()) {
    out.path =
        absl::StrCat(in.prefix_rewrite(), av(path.substr(matchedPrefix(match, path))), av(query));
  } else {
    out.path = std::string(request.path);
  }
  return out;
}

void noRoute(RouteDecision& decision, uint32_t status, std::string reason) {
  decision.kind = RouteDecision::Kind::kNoRoute;
  decision.status = status;
  decision.reason = std::move(reason);
}

// Fills `decision` for `rule`, which matched through `match` (null for a route without matches).
void act(const RouteConfig& config, const HttpRouteRule& rule, const HttpMatch* match,
         const RequestView& request, uint32_t random, RouteDecision& decision) {
  decision.rule = &rule;
  decision.virtual_service = rule.virtual_service;
  decision.route_index = rule.index;
  decision.route_name = rule.name;
  decision.policy = &rule.policy;
  decision.headers = &rule.headers;
  switch (rule.action) {
    case HttpRouteRule::Action::kRedirect:
      decision.kind = RouteDecision::Kind::kRedirect;
      decision.redirect = redirectFor(rule, match, request);
      return;
    case HttpRouteRule::Action::kDirectResponse: {
      const networking::HTTPDirectResponse& in = *rule.direct_response;
      decision.kind = RouteDecision::Kind::kDirectResponse;
      decision.direct_response.status = in.status();
      decision.direct_response.body =
          in.body().has_bytes() ? in.body().bytes() : std::string_view(in.body().string());
      return;
    }
    case HttpRouteRule::Action::kForward:
      break;
  }
  const size_t index = pickTarget(rule.targets, rule.total_weight, random);
  const WeightedTarget& chosen = rule.targets[index];
  decision.destination_index = static_cast<int>(index);
  decision.destination = chosen.target;
  if (decision.destination.port == 0) decision.destination.port = request.port;
  const std::string& subset = chosen.target.subset;
  if (!subset.empty() && config.findSubset(chosen.target.host, subset) == nullptr) {
    noRoute(decision, 503,
            absl::StrCat("subset ", subset, " of ", chosen.target.host,
                         " is not defined by any DestinationRule"));
    return;
  }
  decision.kind = RouteDecision::Kind::kForward;
  decision.headers = &chosen.headers;
  decision.authority = chosen.headers.authority;
  decision.path = rewritePath(rule, match, request.path);
}

}  // namespace

std::string RedirectAction::location() const {
  return absl::StrCat(scheme, "://", authority, path);
}

std::string RouteDecision::describe() const {
  const std::string by =
      rule == nullptr
          ? std::string(" by the default route")
          : absl::StrCat(" by ", av(virtual_service), " route ", route_index,
                         route_name.empty() ? "" : absl::StrCat(" \"", av(route_name), "\""));
  switch (kind) {
    case Kind::kForward:
      return absl::StrCat("forward to ", destination.host,
                          destination.subset.empty() ? "" : " subset ", destination.subset,
                          " port ", destination.port, by);
    case Kind::kRedirect:
      return absl::StrCat("redirect (", redirect.status, ") to ", redirect.location(), by);
    case Kind::kDirectResponse:
      return absl::StrCat("direct response ", direct_response.status, by);
    case Kind::kNoRoute:
      return absl::StrCat("no route (", status, " ", av(kNoRouteFlag), "): ", reason);
  }
  return "";
}

RouteDecision decideRoute(const RouteConfig& config, std::string_view service,
                          const RequestView& request, uint32_t random, bool explain) {
  RouteDecision decision;
  decision.policy = &config.defaultPolicy();
  decision.headers = &kNoHeaders;
  decision.service = config.findService(service);
  if (decision.service == nullptr) {
    noRoute(decision, 404, absl::StrCat("the waypoint does not serve ", av(service)));
    return decision;
  }
  const ServiceRoutes& routes = *decision.service;
  if (routes.http.empty()) {
    decision.kind = RouteDecision::Kind::kForward;
    decision.destination = RouteTarget{routes.service.hostname, "", request.port};
    return decision;
  }
  std::string why;
  for (const HttpRouteRule* rule : routes.http) {
    if (!rule->never.empty()) {
      if (explain) decision.explain.push_back(absl::StrCat(routeLabel(*rule), ": ", rule->never));
      continue;
    }
    if (rule->matches.empty()) {
      act(config, *rule, nullptr, request, random, decision);
      return decision;
    }
    for (size_t i = 0; i < rule->matches.size(); ++i) {
      if (matchesRequest(rule->matches[i], request, explain ? &why : nullptr)) {
        decision.match_index = static_cast<int>(i);
        act(config, *rule, &rule->matches[i], request, random, decision);
        return decision;
      }
      if (explain) {
        decision.explain.push_back(absl::StrCat(routeLabel(*rule), " (match ", i, "): ", why));
      }
    }
  }
  noRoute(decision, 404,
          absl::StrCat("no route of ", absl::StrJoin(routes.virtual_services, ", "),
                       " matches the request"));
  return decision;
}

size_t pickTarget(const std::vector<WeightedTarget>& targets, uint32_t total, uint32_t random) {
  const uint64_t point = (static_cast<uint64_t>(random) * total) >> 32;  // in [0, total)
  uint64_t end = 0;
  for (size_t i = 0; i < targets.size(); ++i) {
    end += targets[i].weight;
    if (point < end) return i;
  }
  return targets.size() - 1;
}

bool percentHit(double percent, uint32_t random) {
  if (!(percent > 0)) return false;
  const auto per_million = static_cast<uint64_t>(std::llround(std::min(percent, 100.0) * 10000));
  return ((static_cast<uint64_t>(random) * 1000000) >> 32) < per_million;
}

}  // namespace ambit::waypoint
