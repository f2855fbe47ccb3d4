// Telemetry: workload selection, providers, metric overrides, tracing and access logging.
#include <absl/strings/str_cat.h>

#include "core/config/validate/common.h"
#include "core/config/validate/kinds.h"

namespace ambit::config::validate {
namespace {

namespace tel = istio::telemetry::v1alpha1;

void checkProviders(const google::protobuf::RepeatedPtrField<tel::ProviderRef>& providers,
                    const std::string& path, Issues& issues) {
  for (int i = 0; i < providers.size(); ++i) {
    if (providers[i].name().empty()) {
      issues.error(field(item(path, static_cast<size_t>(i)), "name"),
                   "provider name must not be empty");
    }
  }
}

// Why `expression` cannot be a CEL expression: unbalanced brackets or an unterminated string.
std::string celProblem(const std::string& expression) {
  std::string open;
  char quote = 0;
  for (size_t i = 0; i < expression.size(); ++i) {
    const char c = expression[i];
    if (quote != 0) {
      if (c == '\\') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
      continue;
    }
    if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '(' || c == '[' || c == '{') {
      open += c;
    } else if (c == ')' || c == ']' || c == '}') {
      const char expected = c == ')' ? '(' : c == ']' ? '[' : '{';
      if (open.empty() || open.back() != expected) {
        return absl::StrCat("unexpected \"", std::string(1, c), "\"");
      }
      open.pop_back();
    }
  }
  if (quote != 0) return "unterminated string";
  if (!open.empty()) return absl::StrCat("unclosed \"", std::string(1, open.back()), "\"");
  return "";
}

void checkMetrics(const tel::Metrics& metrics, const std::string& path, Issues& issues) {
  using Tag = tel::MetricsOverrides::TagOverride;
  checkProviders(metrics.providers(), field(path, "providers"), issues);
  for (int j = 0; j < metrics.overrides_size(); ++j) {
    const tel::MetricsOverrides& o = metrics.overrides(j);
    const std::string op = item(field(path, "overrides"), static_cast<size_t>(j));
    for (const std::string& name : sortedKeys(o.tag_overrides())) {
      const Tag& tag = o.tag_overrides().at(name);
      const std::string tp = key(field(op, "tagOverrides"), name);
      if (name.empty()) issues.warning(tp, "tag name should not be empty");
      if (tag.operation() == Tag::REMOVE && !tag.value().empty()) {
        issues.error(field(tp, "value"), absl::StrCat("value must not be set when operation is "
                                                      "REMOVE, got ",
                                                      q(tag.value())));
      } else if (tag.operation() == Tag::UPSERT && tag.value().empty()) {
        issues.warning(tp, absl::StrCat("tag override ", q(name),
                                        " has operation UPSERT but no value, so it sets nothing; "
                                        "set value to an expression such as request.host"));
      }
    }
    if (o.has_match() && o.match().metric_match_case() == tel::MetricSelector::kCustomMetric &&
        o.match().custom_metric().empty()) {
      issues.error(field(field(op, "match"), "customMetric"), "customMetric must not be empty");
    }
  }
}

void checkTracing(const tel::Tracing& tracing, const std::string& path, Issues& issues) {
  using Tag = tel::Tracing::CustomTag;
  if (tracing.providers_size() > 1) {
    issues.warning(field(path, "providers"),
                   "only one tracing provider is supported; the others are ignored");
  }
  checkProviders(tracing.providers(), field(path, "providers"), issues);
  if (tracing.has_random_sampling_percentage()) {
    const double value = tracing.random_sampling_percentage().value();
    if (value < 0 || value > 100) {
      issues.error(field(path, "randomSamplingPercentage"),
                   absl::StrCat("randomSamplingPercentage must be between 0 and 100, got ", value));
    }
  }
  for (const std::string& name : sortedKeys(tracing.custom_tags())) {
    const Tag& tag = tracing.custom_tags().at(name);
    const std::string tp = key(field(path, "customTags"), name);
    if (name.empty()) issues.error(tp, "tag name must not be empty");
    switch (tag.type_case()) {
      case Tag::kLiteral:
        if (tag.literal().value().empty()) {
          issues.error(field(field(tp, "literal"), "value"), "literal value must not be empty");
        }
        break;
      case Tag::kHeader:
        if (tag.header().name().empty()) {
          issues.error(field(field(tp, "header"), "name"), "header name must not be empty");
        }
        break;
      case Tag::kEnvironment:
        if (tag.environment().name().empty()) {
          issues.error(field(field(tp, "environment"), "name"),
                       "environment variable name must not be empty");
        }
        break;
      default:
        break;
    }
  }
}

}  // namespace

void validateTelemetry(const tel::Telemetry& spec, Issues& issues) {
  checkPolicyTargets(issues, spec);
  for (int i = 0; i < spec.metrics_size(); ++i) {
    checkMetrics(spec.metrics(i), item("spec.metrics", static_cast<size_t>(i)), issues);
  }
  if (spec.tracing_size() > 1) {
    issues.warning("spec.tracing", "only one tracing entry is supported; the others are ignored");
  }
  for (int i = 0; i < spec.tracing_size(); ++i) {
    checkTracing(spec.tracing(i), item("spec.tracing", static_cast<size_t>(i)), issues);
  }
  for (int i = 0; i < spec.access_logging_size(); ++i) {
    const tel::AccessLogging& logging = spec.access_logging(i);
    const std::string lp = item("spec.accessLogging", static_cast<size_t>(i));
    checkProviders(logging.providers(), field(lp, "providers"), issues);
    if (logging.has_filter()) {
      const std::string& expression = logging.filter().expression();
      const std::string ep = field(field(lp, "filter"), "expression");
      if (expression.empty()) {
        issues.error(ep, "filter expression must not be empty");
      } else if (const std::string problem = celProblem(expression); !problem.empty()) {
        issues.error(ep, absl::StrCat("filter expression ", q(expression),
                                      " is not a valid CEL expression: ", problem));
      }
    }
  }
}

}  // namespace ambit::config::validate
