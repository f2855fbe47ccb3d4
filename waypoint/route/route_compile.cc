// Compiling the routes of one VirtualService: what decideRoute needs, computed once per snapshot.
#include <algorithm>
#include <utility>

#include <absl/strings/ascii.h>
#include <absl/strings/numbers.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/str_join.h>
#include <absl/strings/str_split.h>
#include <re2/re2.h>

#include "waypoint/route/route_config.h"

namespace ambit::waypoint {
namespace {

int64_t toMs(const google::protobuf::Duration& duration) {
  return duration.seconds() * 1000 + duration.nanos() / 1000000;
}

// Appends `ops` in Envoy's order: removals, then `set`, then `add`, each by name (proto maps have
// no order). A request `set` or `add` of `host` or `:authority` is an authority rewrite, as Istio
// translates it, and goes to `authority` instead.
void appendOps(const networking::Headers::HeaderOperations& ops, std::vector<HeaderOp>& out,
               std::optional<std::string>* authority) {
  std::vector<std::string> removes(ops.remove().begin(), ops.remove().end());
  for (std::string& name : removes) name = absl::AsciiStrToLower(name);
  std::sort(removes.begin(), removes.end());
  for (std::string& name : removes) out.push_back({HeaderOp::Kind::kRemove, std::move(name), ""});
  const std::pair<HeaderOp::Kind, const google::protobuf::Map<std::string, std::string>*> maps[] = {
      {HeaderOp::Kind::kSet, &ops.set()}, {HeaderOp::Kind::kAdd, &ops.add()}};
  for (const auto& [kind, map] : maps) {
    std::vector<std::pair<std::string, std::string>> sorted;
    for (const auto& [name, value] : *map) sorted.emplace_back(absl::AsciiStrToLower(name), value);
    std::sort(sorted.begin(), sorted.end());
    for (auto& [name, value] : sorted) {
      if (authority != nullptr && (name == "host" || name == ":authority")) {
        *authority = value;
        continue;
      }
      out.push_back({kind, std::move(name), std::move(value)});
    }
  }
}

// A plan from the destination's headers (may be null) followed by the route's.
HeaderPlan headerPlan(const networking::Headers* destination, const networking::HTTPRoute& route) {
  HeaderPlan plan;
  std::optional<std::string> destination_authority;
  if (destination != nullptr) {
    appendOps(destination->request(), plan.request, &destination_authority);
    appendOps(destination->response(), plan.response, nullptr);
  }
  std::optional<std::string> route_authority;
  appendOps(route.headers().request(), plan.request, &route_authority);
  appendOps(route.headers().response(), plan.response, nullptr);
  if (!route.rewrite().authority().empty()) route_authority = route.rewrite().authority();
  plan.authority = destination_authority ? destination_authority : route_authority;
  return plan;
}

// Istio's HTTPRetry translation (its ConvertPolicy): no `retries` gives the default policy,
// attempts 0 none; numeric retryOn entries become retriable status codes.
RetryPolicy retryPolicy(const networking::HTTPRoute& route, const RetryPolicy& defaults) {
  if (!route.has_retries()) return defaults;
  const networking::HTTPRetry& in = route.retries();
  RetryPolicy out = defaults;
  out.istio_default = false;
  if (in.attempts() <= 0) return RetryPolicy{};
  out.attempts = static_cast<uint32_t>(in.attempts());
  if (!in.retry_on().empty()) {
    std::vector<std::string> conditions;
    out.retriable_status_codes.clear();
    for (absl::string_view part : absl::StrSplit(in.retry_on(), ',', absl::SkipWhitespace())) {
      const std::string condition(absl::StripAsciiWhitespace(part));
      uint32_t code = 0;
      if (absl::SimpleAtoi(condition, &code)) {
        out.retriable_status_codes.push_back(code);
      } else if (std::find(conditions.begin(), conditions.end(), condition) == conditions.end()) {
        conditions.push_back(condition);
      }
    }
    const std::string status_codes = "retriable-status-codes";
    if (!out.retriable_status_codes.empty() &&
        std::find(conditions.begin(), conditions.end(), status_codes) == conditions.end()) {
      conditions.push_back(status_codes);
    }
    out.retry_on = absl::StrJoin(conditions, ",");
  }
  if (in.has_per_try_timeout()) out.per_try_timeout_ms = toMs(in.per_try_timeout());
  if (in.has_backoff()) out.backoff_ms = toMs(in.backoff());
  if (in.has_retry_ignore_previous_hosts()) {
    out.ignore_previous_hosts = in.retry_ignore_previous_hosts().value();
  }
  return out;
}

// A fault's percentage: `percentage`, else (delays only) the deprecated integer `percent`;
// unspecified means no request, as Istio translates it for Envoy.
void compileFault(const networking::HTTPFaultInjection& fault, RoutePolicy& policy) {
  if (fault.has_delay() && fault.delay().has_fixed_delay()) {
    const auto& delay = fault.delay();
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    const int32_t legacy_percent = delay.percent();
#pragma GCC diagnostic pop
    policy.delay = FaultDelay{toMs(delay.fixed_delay()), delay.has_percentage()
                                                             ? delay.percentage().value()
                                                             : static_cast<double>(legacy_percent)};
  }
  if (fault.has_abort()) {
    const auto& abort = fault.abort();
    FaultAbort out;
    out.percent = abort.has_percentage() ? abort.percentage().value() : 0;
    if (abort.error_type_case() == networking::HTTPFaultInjection::Abort::kHttpStatus) {
      out.http_status = static_cast<uint32_t>(abort.http_status());
    } else if (abort.error_type_case() == networking::HTTPFaultInjection::Abort::kGrpcStatus) {
      out.grpc_status = abort.grpc_status();
    }
    if (out.http_status != 0 || !out.grpc_status.empty()) policy.abort = out;
  }
}

}  // namespace

void RouteConfig::compileHttpRoute(const VirtualServiceEntry& entry, int index) {
  const networking::HTTPRoute& route = entry.spec.http(index);
  auto rule = std::make_unique<HttpRouteRule>();
  rule->virtual_service = absl::StrCat(entry.namespace_, "/", entry.name);
  rule->index = index;
  rule->name = route.name();
  const std::string where =
      absl::StrCat("VirtualService ", rule->virtual_service, " http[", index, "]");
  for (const auto& match : route.match()) {
    rule->matches.push_back(compileHttpMatch(match, where, notes_));
  }
  const auto target = [&](const networking::Destination& destination) {
    return RouteTarget{resolver_.resolve(destination.host(), entry.namespace_),
                       destination.subset(), static_cast<uint16_t>(destination.port().number())};
  };

  if (route.has_delegate()) {
    rule->never = "delegation is not supported by the waypoint";
  } else if (route.has_redirect()) {
    rule->action = HttpRouteRule::Action::kRedirect;
    rule->redirect = &route.redirect();
  } else if (route.has_direct_response()) {
    rule->action = HttpRouteRule::Action::kDirectResponse;
    rule->direct_response = &route.direct_response();
  } else if (route.route().empty()) {
    rule->never = "no destination, redirect or direct response";
  }
  for (const networking::HTTPRouteDestination& destination : route.route()) {
    const auto weight =
        static_cast<uint32_t>(route.route_size() == 1 ? 100 : std::max(destination.weight(), 0));
    rule->targets.push_back(
        {target(destination.destination()), weight,
         headerPlan(destination.has_headers() ? &destination.headers() : nullptr, route)});
    rule->total_weight += weight;
  }
  if (!rule->targets.empty() && rule->total_weight == 0) {
    notes_.push_back(absl::StrCat(where, ": every destination has weight 0; they share equally"));
    for (WeightedTarget& t : rule->targets) t.weight = 1;
    rule->total_weight = static_cast<uint32_t>(rule->targets.size());
  }
  rule->headers = headerPlan(nullptr, route);

  if (route.has_rewrite()) {
    const networking::HTTPRewrite& rewrite = route.rewrite();
    if (!rewrite.uri().empty()) rule->rewrite_uri = rewrite.uri();
    if (rewrite.has_uri_regex_rewrite()) {
      RE2::Options options;
      options.set_log_errors(false);
      auto regex = std::make_shared<const RE2>(rewrite.uri_regex_rewrite().match(), options);
      std::string error = regex->error();
      if (regex->ok() &&
          !regex->CheckRewriteString(rewrite.uri_regex_rewrite().rewrite(), &error)) {
        regex.reset();
      }
      if (regex != nullptr && regex->ok()) {
        rule->rewrite_regex = std::move(regex);
        rule->rewrite_substitution = rewrite.uri_regex_rewrite().rewrite();
      } else {
        notes_.push_back(absl::StrCat(where, ": uriRegexRewrite is not applied: ", error));
      }
    }
  }

  RoutePolicy& policy = rule->policy;
  if (route.has_timeout() && toMs(route.timeout()) > 0) policy.timeout_ms = toMs(route.timeout());
  policy.retries = retryPolicy(route, default_policy_.retries);
  if (route.has_fault()) compileFault(route.fault(), policy);
  if (route.has_mirror()) {
    double percent = 100;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    if (route.has_mirror_percentage()) {
      percent = route.mirror_percentage().value();
    } else if (route.has_mirror_percent()) {
      percent = route.mirror_percent().value();  // the deprecated integer form
    }
#pragma GCC diagnostic pop
    policy.mirrors.push_back({target(route.mirror()), percent});
  }
  for (const networking::HTTPMirrorPolicy& mirror : route.mirrors()) {
    policy.mirrors.push_back({target(mirror.destination()),
                              mirror.has_percentage() ? mirror.percentage().value() : 100});
  }
  if (route.has_cors_policy()) policy.cors = &route.cors_policy();

  if (!rule->never.empty()) notes_.push_back(absl::StrCat(where, ": never used: ", rule->never));
  http_rules_.push_back(std::move(rule));
}

void RouteConfig::compileTcpRoute(const VirtualServiceEntry& entry, int index) {
  const networking::TCPRoute& route = entry.spec.tcp(index);
  auto rule = std::make_unique<TcpRouteRule>();
  rule->virtual_service = absl::StrCat(entry.namespace_, "/", entry.name);
  rule->index = index;
  const std::string where =
      absl::StrCat("VirtualService ", rule->virtual_service, " tcp[", index, "]");
  for (const auto& match : route.match()) {
    rule->matches.push_back(compileL4Match(match, where, notes_));
  }
  for (const networking::RouteDestination& destination : route.route()) {
    const auto weight =
        static_cast<uint32_t>(route.route_size() == 1 ? 100 : std::max(destination.weight(), 0));
    const networking::Destination& d = destination.destination();
    rule->targets.push_back({RouteTarget{resolver_.resolve(d.host(), entry.namespace_), d.subset(),
                                         static_cast<uint16_t>(d.port().number())},
                             weight, HeaderPlan{}});
    rule->total_weight += weight;
  }
  if (!rule->targets.empty() && rule->total_weight == 0) {
    notes_.push_back(absl::StrCat(where, ": every destination has weight 0; they share equally"));
    for (WeightedTarget& t : rule->targets) t.weight = 1;
    rule->total_weight = static_cast<uint32_t>(rule->targets.size());
  }
  tcp_rules_.push_back(std::move(rule));
}

}  // namespace ambit::waypoint
