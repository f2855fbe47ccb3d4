// Istio's Telemetry precedence for the waypoint's request metrics and access log, and the subset
// of CEL its tag overrides may use.
#include "waypoint/telemetry/telemetry_policy.h"

#include <absl/strings/ascii.h>
#include <absl/strings/str_cat.h>

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

namespace ambit::waypoint {
namespace {

namespace tel = istio::telemetry::v1alpha1;

using Source = TagValue::Source;

constexpr std::string_view kUnknown = "unknown";

// The attributes read by name, as Envoy's attribute paths spell them.
constexpr std::pair<std::string_view, Source> kAttributes[] = {
    {"request.host", Source::kRequestHost},         {"request.method", Source::kRequestMethod},
    {"request.url_path", Source::kRequestUrlPath},  {"request.path", Source::kRequestPath},
    {"request.scheme", Source::kRequestScheme},     {"request.protocol", Source::kRequestProtocol},
    {"source.principal", Source::kSourcePrincipal}, {"destination.port", Source::kDestinationPort},
    {"response.code", Source::kResponseCode},
};

constexpr const char* kSupported =
    "Ambit evaluates a string literal, request.host, request.method, request.url_path, "
    "request.path, request.scheme, request.protocol, request.headers['name'], "
    "source.principal, destination.port and response.code";

std::string_view trim(std::string_view text) {
  while (!text.empty() && absl::ascii_isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && absl::ascii_isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

// The text of a quoted CEL string without escapes ('text' or "text"); nullopt otherwise.
std::optional<std::string_view> quoted(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  const char quote = text.front();
  if ((quote != '\'' && quote != '"') || text.back() != quote) return std::nullopt;
  const std::string_view inner = text.substr(1, text.size() - 2);
  if (inner.find(quote) != std::string_view::npos) return std::nullopt;
  if (inner.find('\\') != std::string_view::npos) return std::nullopt;
  return inner;
}

std::optional<TagValue> attribute(std::string_view text) {
  for (const auto& [name, source] : kAttributes) {
    if (text == name) return TagValue{source, ""};
  }
  constexpr std::string_view kHeaders = "request.headers[";
  if (text.starts_with(kHeaders) && text.ends_with("]")) {
    const std::optional<std::string_view> name =
        quoted(trim(text.substr(kHeaders.size(), text.size() - kHeaders.size() - 1)));
    if (!name || name->empty()) return std::nullopt;
    for (const char c : *name) {
      if (c <= ' ' || c >= 0x7f || c == ':') return std::nullopt;  // not a header name
    }
    return TagValue{Source::kRequestHeader,
                    absl::AsciiStrToLower(absl::string_view(name->data(), name->size()))};
  }
  return std::nullopt;
}

// Prometheus' label names: [a-zA-Z_][a-zA-Z0-9_]*, with names starting "__" reserved.
bool validLabelName(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  if (absl::ascii_isdigit(static_cast<unsigned char>(name.front()))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

std::string orUnknown(std::string_view value) {
  return std::string(value.empty() ? kUnknown : value);
}

// The request metrics an override's match selects; empty when none the waypoint reports (the
// reason goes to `why`).
std::vector<size_t> selectedMetrics(const tel::MetricsOverrides& o, std::string& why) {
  std::vector<size_t> all(kRequestMetricCount);
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  if (!o.has_match()) return all;
  const tel::MetricSelector& match = o.match();
  if (match.metric_match_case() == tel::MetricSelector::kCustomMetric) {
    why = absl::StrCat("custom metric \"", match.custom_metric(),
                       "\" is not one the waypoint reports");
    return {};
  }
  switch (match.metric()) {
    case tel::MetricSelector::ALL_METRICS:
      return all;
    case tel::MetricSelector::REQUEST_COUNT:
      return {static_cast<size_t>(RequestMetric::kRequestCount)};
    case tel::MetricSelector::REQUEST_DURATION:
      return {static_cast<size_t>(RequestMetric::kRequestDuration)};
    case tel::MetricSelector::REQUEST_SIZE:
      return {static_cast<size_t>(RequestMetric::kRequestSize)};
    case tel::MetricSelector::RESPONSE_SIZE:
      return {static_cast<size_t>(RequestMetric::kResponseSize)};
    case tel::MetricSelector::TCP_OPENED_CONNECTIONS:
    case tel::MetricSelector::TCP_CLOSED_CONNECTIONS:
    case tel::MetricSelector::TCP_SENT_BYTES:
    case tel::MetricSelector::TCP_RECEIVED_BYTES:
      why = absl::StrCat(tel::MetricSelector::IstioMetric_Name(match.metric()),
                         " is not reported by the waypoint (the node agents report TCP metrics, "
                         "and do not apply Telemetry)");
      return {};
    default:
      why = absl::StrCat(tel::MetricSelector::IstioMetric_Name(match.metric()),
                         " is not reported by the waypoint");
      return {};
  }
}

// Per metric, while resolving: whether it is disabled, and per label the winning override
// (nullopt: REMOVE).
struct MetricState {
  bool disabled = false;
  std::map<std::string, std::optional<TagValue>> tags;
};

class Resolver {
 public:
  explicit Resolver(TelemetryPolicy& out) : out_(out) {}

  void metrics(const tel::Metrics& entry, const std::string& scope) {
    if (!appliesToPrometheus(entry, scope)) return;
    if (entry.has_reporting_interval()) {
      note(scope, "metrics reportingInterval has no effect: Prometheus scrapes the waypoint");
    }
    for (const tel::MetricsOverrides& o : entry.overrides()) {
      // Istio configures a waypoint's listeners as the server side.
      if (o.has_match() && o.match().mode() == tel::WorkloadMode::CLIENT) continue;
      std::string why;
      const std::vector<size_t> selected = selectedMetrics(o, why);
      if (selected.empty()) {
        note(scope, absl::StrCat("metrics override ignored: ", why));
        continue;
      }
      if (o.has_disabled()) {
        for (size_t i : selected) state_[i].disabled = o.disabled().value();
      }
      // The map's order is unspecified; sorted, the notes come out the same each time.
      std::vector<std::string> names;
      for (const auto& [name, tag] : o.tag_overrides()) names.push_back(name);
      std::sort(names.begin(), names.end());
      for (const std::string& name : names) {
        std::optional<std::optional<TagValue>> change =
            tagChange(name, o.tag_overrides().at(name), scope);
        if (!change) continue;
        for (size_t i : selected) state_[i].tags[name] = *change;
      }
    }
  }

  void accessLogging(const tel::AccessLogging& entry, const std::string& scope) {
    if (entry.has_match() && entry.match().mode() == tel::WorkloadMode::CLIENT) return;
    bool envoy = entry.providers().empty();  // Istio's default provider
    for (const tel::ProviderRef& provider : entry.providers()) {
      if (provider.name() == "envoy") {
        envoy = true;
      } else {
        note(scope, absl::StrCat("access log provider \"", provider.name(),
                                 "\" is not one Ambit writes to; only \"envoy\" (the waypoint's "
                                 "own access log) is"));
      }
    }
    if (!envoy) return;
    if (entry.has_disabled() && entry.disabled().value()) {
      out_.access_log = false;
      return;
    }
    out_.access_log = true;
    if (entry.has_filter() && !entry.filter().expression().empty()) {
      note(scope, absl::StrCat("access log filter \"", entry.filter().expression(),
                               "\" is not supported (CEL filters are not evaluated): every "
                               "request is logged"));
    }
  }

  void finish() {
    for (size_t i = 0; i < kRequestMetricCount; ++i) {
      MetricPolicy& policy = out_.metrics[i];
      policy.disabled = state_[i].disabled;
      for (auto& [label, value] : state_[i].tags) {
        TagOverride o;
        o.label = label;
        o.remove = !value.has_value();
        if (value) o.value = std::move(*value);
        policy.overrides.push_back(std::move(o));
      }
    }
  }

 private:
  bool appliesToPrometheus(const tel::Metrics& entry, const std::string& scope) {
    if (entry.providers().empty()) return true;  // Istio's default metrics provider
    bool prometheus = false;
    for (const tel::ProviderRef& provider : entry.providers()) {
      if (provider.name() == "prometheus") {
        prometheus = true;
      } else {
        note(scope, absl::StrCat("metrics provider \"", provider.name(),
                                 "\" is not one Ambit reports to; only \"prometheus\" is"));
      }
    }
    return prometheus;
  }

  // What a tag override does: nullopt when it is ignored, else the label's new state (nullopt
  // inside: removed).
  std::optional<std::optional<TagValue>> tagChange(const std::string& name,
                                                   const tel::MetricsOverrides::TagOverride& tag,
                                                   const std::string& scope) {
    if (!validLabelName(name)) {
      note(scope,
           absl::StrCat("tag override \"", name, "\" ignored: not a valid Prometheus label name"));
      return std::nullopt;
    }
    if (tag.operation() == tel::MetricsOverrides::TagOverride::REMOVE) {
      return std::optional<TagValue>();
    }
    if (tag.value().empty()) {
      note(scope, absl::StrCat("tag override \"", name,
                               "\" is an UPSERT without a value (Istio requires one): the label "
                               "is left as it was"));
      return std::nullopt;
    }
    absl::StatusOr<TagValue> value = parseTagValue(tag.value());
    if (!value.ok()) {
      note(scope, absl::StrCat("tag override \"", name, "\" ignored: ", value.status().message(),
                               "; the label is left as it was"));
      return std::nullopt;
    }
    return std::optional<TagValue>(std::move(*value));
  }

  void note(const std::string& scope, const std::string& text) {
    std::string line = absl::StrCat(scope, ": ", text);
    if (std::find(out_.notes.begin(), out_.notes.end(), line) == out_.notes.end()) {
      out_.notes.push_back(std::move(line));
    }
  }

  TelemetryPolicy& out_;
  std::array<MetricState, kRequestMetricCount> state_;
};

}  // namespace

absl::StatusOr<TagValue> parseTagValue(std::string_view expression) {
  const std::string_view text = trim(expression);
  if (text.empty()) return absl::InvalidArgumentError("the expression is empty");
  if (const std::optional<std::string_view> literal = quoted(text)) {
    return TagValue{Source::kLiteral, std::string(*literal)};
  }
  if (std::optional<TagValue> value = attribute(text)) return *value;
  // string(<attribute>): CEL's conversion, which the label gets anyway.
  constexpr std::string_view kString = "string(";
  if (text.starts_with(kString) && text.ends_with(")")) {
    if (std::optional<TagValue> value =
            attribute(trim(text.substr(kString.size(), text.size() - kString.size() - 1)))) {
      return *value;
    }
  }
  return absl::InvalidArgumentError(absl::StrCat("\"", absl::string_view(text.data(), text.size()),
                                                 "\" is not an expression ", kSupported));
}

std::string evaluateTagValue(const TagValue& value, const RequestFacts& facts) {
  switch (value.source) {
    case Source::kLiteral:
      return value.text;
    case Source::kRequestHost:
      return orUnknown(facts.host);
    case Source::kRequestMethod:
      return orUnknown(facts.method);
    case Source::kRequestUrlPath:
      return orUnknown(facts.path.substr(0, facts.path.find('?')));
    case Source::kRequestPath:
      return orUnknown(facts.path);
    case Source::kRequestScheme:
      return orUnknown(facts.scheme);
    case Source::kRequestProtocol:
      return orUnknown(facts.protocol);
    case Source::kRequestHeader: {
      if (facts.headers == nullptr) return std::string(kUnknown);
      // Envoy joins the values of a repeated header with commas.
      std::string joined;
      bool found = false;
      for (const std::string_view v : facts.headers->getAll(value.text)) {
        if (found) joined += ',';
        joined.append(v);
        found = true;
      }
      return found ? joined : std::string(kUnknown);
    }
    case Source::kSourcePrincipal:
      return orUnknown(facts.source_principal);
    case Source::kDestinationPort:
      return facts.destination_port == 0 ? std::string(kUnknown)
                                         : std::to_string(facts.destination_port);
    case Source::kResponseCode:
      return std::to_string(facts.response_code);
  }
  return std::string(kUnknown);
}

bool TelemetryPolicy::defaultMetrics() const {
  return std::all_of(metrics.begin(), metrics.end(),
                     [](const MetricPolicy& m) { return !m.disabled && m.overrides.empty(); });
}

TelemetryPolicy resolveTelemetry(const tel::Telemetry* root, const tel::Telemetry* namespace_wide,
                                 const tel::Telemetry* workload, const TelemetryNames& names) {
  TelemetryPolicy out;
  Resolver resolver(out);
  // Least specific first, so later ones override.
  const std::pair<const tel::Telemetry*, const std::string*> levels[] = {
      {root, &names.root}, {namespace_wide, &names.namespace_wide}, {workload, &names.workload}};
  for (const auto& [telemetry, scope] : levels) {
    if (telemetry == nullptr) continue;
    for (const tel::Metrics& entry : telemetry->metrics()) resolver.metrics(entry, *scope);
    for (const tel::AccessLogging& entry : telemetry->access_logging()) {
      resolver.accessLogging(entry, *scope);
    }
  }
  resolver.finish();
  return out;
}

}  // namespace ambit::waypoint
