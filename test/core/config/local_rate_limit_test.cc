#include "core/config/local_rate_limit.h"

#include <catch2/catch.hpp>

#include "core/config/loader.h"

namespace ambit::config {
namespace {

namespace net = istio::networking::v1alpha3;

// Loads one EnvoyFilter whose first patch has the given `value:` body (indented 8 spaces).
net::EnvoyFilter filterWith(const std::string& applyTo, const std::string& operation,
                            const std::string& value) {
  LoadResult r;
  Loader().loadText(
      "apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\n"
      "metadata: {name: rl}\nspec:\n  configPatches:\n  - applyTo: " +
          applyTo + "\n    patch:\n      operation: " + operation + "\n      value:\n" + value,
      "rl.yaml", r);
  REQUIRE(r.diagnostics.empty());
  REQUIRE(r.objects.size() == 1);
  return r.objects[0].as<net::EnvoyFilter>();
}

const std::string kTyped =
    "        name: envoy.filters.http.local_ratelimit\n"
    "        typed_config:\n"
    "          \"@type\": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3."
    "LocalRateLimit\n";

TEST_CASE("a local rate limit patch is read with Envoy's defaults", "[ratelimit]") {
  const auto filter =
      filterWith("HTTP_FILTER", "INSERT_BEFORE",
                 kTyped +
                     "          stat_prefix: rl\n"
                     "          token_bucket: {max_tokens: 10, fill_interval: 2s}\n"
                     "          filter_enabled:\n"
                     "            default_value: {numerator: 50, denominator: HUNDRED}\n"
                     "          status: {code: 503}\n");
  const auto limit = readLocalRateLimitPatch(filter.config_patches(0));
  REQUIRE(limit.ok());
  CHECK(limit->stat_prefix == "rl");
  CHECK(limit->max_tokens == 10);
  CHECK(limit->tokens_per_fill == 1);
  CHECK(limit->fill_interval.seconds() == 2);
  CHECK(limit->enabled_fraction == Approx(0.5));
  CHECK(limit->enforced_fraction == 0);  // Envoy: not enforced unless filter_enforced is set
  CHECK(limit->status_code == 503);
}

TEST_CASE("unsupported or malformed rate limit patches say why", "[ratelimit]") {
  struct Case {
    const char* apply_to;
    const char* operation;
    std::string value;
    const char* message;
  };
  const Case cases[] = {
      {"HTTP_FILTER", "REMOVE", kTyped,
       "operation REMOVE is not supported; use INSERT_BEFORE, INSERT_AFTER, INSERT_FIRST or ADD "
       "to insert envoy.filters.http.local_ratelimit"},
      {"HTTP_FILTER", "INSERT_FIRST",
       kTyped + "          token_bucket: {max_tokens: 1, fill_interval: 1s}\n",
       "stat_prefix is required"},
      {"HTTP_FILTER", "INSERT_FIRST",
       kTyped + "          stat_prefix: rl\n          token_bucket: {max_tokens: 0, fill_interval: "
                "1s}\n",
       "token_bucket.max_tokens must be a whole number >= 1"},
      {"HTTP_FILTER", "INSERT_FIRST",
       kTyped + "          stat_prefix: rl\n          token_bucket: {max_tokens: 5, fill_interval: "
                "10ms}\n",
       "token_bucket.fill_interval must be at least 50ms"},
      {"HTTP_FILTER", "INSERT_FIRST",
       kTyped + "          stat_prefix: rl\n          token_bucket: {max_tokens: 5}\n",
       "token_bucket.fill_interval is required (a duration such as 60s)"},
      {"HTTP_FILTER", "INSERT_FIRST",
       kTyped + "          stat_prefix: rl\n          descriptors: []\n"
                "          token_bucket: {max_tokens: 5, fill_interval: 1s}\n",
       "local rate limit field \"descriptors\" is not supported (supported: stat_prefix, "
       "token_bucket, filter_enabled, filter_enforced, status)"},
      {"HTTP_ROUTE", "MERGE", kTyped,
       "applyTo HTTP_ROUTE is not supported; only HTTP_FILTER patches that insert "
       "envoy.filters.http.local_ratelimit are"},
  };
  for (const Case& c : cases) {
    INFO(c.value);
    const auto limit =
        readLocalRateLimitPatch(filterWith(c.apply_to, c.operation, c.value).config_patches(0));
    REQUIRE_FALSE(limit.ok());
    CHECK(std::string(limit.status().message()) == c.message);
  }
}

}  // namespace
}  // namespace ambit::config
