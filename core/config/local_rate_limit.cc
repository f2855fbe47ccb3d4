#include "core/config/local_rate_limit.h"

#include <cmath>
#include <set>

#include <google/protobuf/struct.pb.h>

#include "core/config/duration.h"

namespace ambit::config {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;
using EnvoyFilter = istio::networking::v1alpha3::EnvoyFilter;

constexpr const char* kLocalRateLimitType =
    "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit";
const std::set<std::string> kTypedStructTypes = {"type.googleapis.com/udpa.type.v1.TypedStruct",
                                                 "type.googleapis.com/xds.type.v3.TypedStruct"};

absl::Status unsupported(const std::string& why) { return absl::InvalidArgumentError(why); }

const Value* field(const Struct& s, const char* name) {
  auto it = s.fields().find(name);
  return it == s.fields().end() ? nullptr : &it->second;
}

absl::StatusOr<uint32_t> positiveCount(const Struct& bucket, const char* name, bool required) {
  const Value* v = field(bucket, name);
  if (v == nullptr) {
    if (required) return unsupported(absl::StrCat("token_bucket.", name, " is required"));
    return 0u;
  }
  if (v->kind_case() != Value::kNumberValue || v->number_value() < 1 ||
      v->number_value() > UINT32_MAX || std::floor(v->number_value()) != v->number_value()) {
    return unsupported(absl::StrCat("token_bucket.", name, " must be a whole number >= 1"));
  }
  return static_cast<uint32_t>(v->number_value());
}

// Envoy's RuntimeFractionalPercent: {default_value: {numerator, denominator}}.
absl::StatusOr<double> fraction(const Value* v, const char* name) {
  if (v == nullptr) return 0.0;  // Envoy's default for both fractions is 0%, for safety
  if (v->kind_case() != Value::kStructValue)
    return unsupported(absl::StrCat(name, " must be an object"));
  const Value* def = field(v->struct_value(), "default_value");
  if (def == nullptr || def->kind_case() != Value::kStructValue) {
    return unsupported(absl::StrCat(name, ".default_value is required"));
  }
  const Value* numerator = field(def->struct_value(), "numerator");
  const Value* denominator = field(def->struct_value(), "denominator");
  double scale = 100;
  if (denominator != nullptr) {
    const std::string& d = denominator->string_value();
    if (d == "HUNDRED") {
      scale = 100;
    } else if (d == "TEN_THOUSAND") {
      scale = 10000;
    } else if (d == "MILLION") {
      scale = 1000000;
    } else {
      return unsupported(absl::StrCat(name,
                                      ".default_value.denominator must be HUNDRED, "
                                      "TEN_THOUSAND or MILLION"));
    }
  }
  const double n = numerator == nullptr ? 0 : numerator->number_value();
  if (n < 0) return unsupported(absl::StrCat(name, ".default_value.numerator must be >= 0"));
  return std::min(1.0, n / scale);
}

}  // namespace

absl::StatusOr<LocalRateLimit> readLocalRateLimitPatch(
    const EnvoyFilter::EnvoyConfigObjectPatch& patch) {
  if (patch.apply_to() != EnvoyFilter::HTTP_FILTER) {
    return unsupported(absl::StrCat("applyTo ", EnvoyFilter::ApplyTo_Name(patch.apply_to()),
                                    " is not supported; only HTTP_FILTER patches that insert ",
                                    kLocalRateLimitFilter, " are"));
  }
  const auto op = patch.patch().operation();
  if (op != EnvoyFilter::Patch::INSERT_BEFORE && op != EnvoyFilter::Patch::INSERT_AFTER &&
      op != EnvoyFilter::Patch::INSERT_FIRST && op != EnvoyFilter::Patch::ADD) {
    return unsupported(absl::StrCat("operation ", EnvoyFilter::Patch::Operation_Name(op),
                                    " is not supported; use INSERT_BEFORE, INSERT_AFTER, "
                                    "INSERT_FIRST or ADD to insert ",
                                    kLocalRateLimitFilter));
  }
  const Struct& value = patch.patch().value();
  const Value* name = field(value, "name");
  if (name == nullptr || name->string_value() != kLocalRateLimitFilter) {
    return unsupported(absl::StrCat("filter \"", name == nullptr ? "" : name->string_value(),
                                    "\" is not supported; the only supported filter is ",
                                    kLocalRateLimitFilter));
  }
  const Value* typed = field(value, "typed_config");
  if (typed == nullptr || typed->kind_case() != Value::kStructValue) {
    return unsupported("typed_config is required");
  }
  const Struct* config = &typed->struct_value();
  const Value* type = field(*config, "@type");
  const std::string typeName = type == nullptr ? "" : type->string_value();
  if (kTypedStructTypes.count(typeName) > 0) {
    const Value* url = field(*config, "type_url");
    if (url == nullptr || url->string_value() != kLocalRateLimitType) {
      return unsupported(absl::StrCat("typed_config.type_url must be ", kLocalRateLimitType));
    }
    const Value* inner = field(*config, "value");
    if (inner == nullptr || inner->kind_case() != Value::kStructValue) {
      return unsupported("typed_config.value is required");
    }
    config = &inner->struct_value();
  } else if (typeName != kLocalRateLimitType) {
    return unsupported(absl::StrCat("typed_config @type \"", typeName, "\" is not supported; use ",
                                    kLocalRateLimitType, " or a TypedStruct of it"));
  }

  static const std::set<std::string> kKnown = {"@type",          "stat_prefix",     "token_bucket",
                                               "filter_enabled", "filter_enforced", "status"};
  for (const auto& [key, unused] : config->fields()) {
    if (kKnown.count(key) == 0) {
      return unsupported(absl::StrCat("local rate limit field \"", key,
                                      "\" is not supported (supported: stat_prefix, token_bucket, "
                                      "filter_enabled, filter_enforced, status)"));
    }
  }
  LocalRateLimit out;
  if (const Value* prefix = field(*config, "stat_prefix")) out.stat_prefix = prefix->string_value();
  if (out.stat_prefix.empty()) return unsupported("stat_prefix is required");
  const Value* bucket = field(*config, "token_bucket");
  if (bucket == nullptr || bucket->kind_case() != Value::kStructValue) {
    return unsupported("token_bucket is required");
  }
  AMBIT_ASSIGN_OR_RETURN(out.max_tokens, positiveCount(bucket->struct_value(), "max_tokens", true));
  AMBIT_ASSIGN_OR_RETURN(out.tokens_per_fill,
                         positiveCount(bucket->struct_value(), "tokens_per_fill", false));
  if (out.tokens_per_fill == 0) out.tokens_per_fill = 1;  // Envoy's default
  const Value* interval = field(bucket->struct_value(), "fill_interval");
  if (interval == nullptr || interval->kind_case() != Value::kStringValue) {
    return unsupported("token_bucket.fill_interval is required (a duration such as 60s)");
  }
  auto parsed = parseDuration(interval->string_value());
  if (!parsed.ok())
    return unsupported(absl::StrCat("token_bucket.fill_interval: ", parsed.status().message()));
  if (parsed->seconds() < 0 || (parsed->seconds() == 0 && parsed->nanos() < 50000000)) {
    return unsupported("token_bucket.fill_interval must be at least 50ms");
  }
  out.fill_interval = *parsed;
  AMBIT_ASSIGN_OR_RETURN(out.enabled_fraction,
                         fraction(field(*config, "filter_enabled"), "filter_enabled"));
  AMBIT_ASSIGN_OR_RETURN(out.enforced_fraction,
                         fraction(field(*config, "filter_enforced"), "filter_enforced"));
  if (const Value* status = field(*config, "status")) {
    const Value* code = status->kind_case() == Value::kStructValue
                            ? field(status->struct_value(), "code")
                            : nullptr;
    const double c = code == nullptr ? 0 : code->number_value();
    if (c < 400 || c > 599) return unsupported("status.code must be between 400 and 599");
    out.status_code = static_cast<uint32_t>(c);
  }
  return out;
}

}  // namespace ambit::config
