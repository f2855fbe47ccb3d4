// Which Istio config each waypoint applies (waypoint/config.yaml says why for every object).
#include <filesystem>

#include <catch2/catch.hpp>

#include "control/translate/waypoint_config.h"
#include "core/config/loader.h"
#include "core/config/validate/validate.h"

namespace ambit::control::translate {
namespace {

std::vector<config::Object> loadConfig() {
  config::LoadResult loaded;
  config::Loader().loadPath(
      (std::filesystem::path(AMBIT_SOURCE_DIR) / "test/control/translate/waypoint/config.yaml")
          .string(),
      loaded);
  config::validate::validateAll(loaded.objects, loaded.diagnostics);
  for (const config::Diagnostic& d : loaded.diagnostics) {
    INFO(d.format());
    CHECK(d.severity != config::Severity::kError);
  }
  return std::move(loaded.objects);
}

std::vector<std::string> listOf(const std::vector<WaypointResource>& resources) {
  std::vector<std::string> out;
  for (const WaypointResource& r : resources) {
    CHECK(r.type_url == typeUrlOf(*r.spec));
    out.push_back(r.type_url.substr(std::string("type.googleapis.com/").size()) + " " + r.name);
  }
  return out;
}

TEST_CASE("a namespace waypoint's config", "[waypoint-config]") {
  const auto objects = loadConfig();
  absl::StatusOr<std::vector<WaypointResource>> got =
      waypointResources(objects, Options{}, "shop", "waypoint");
  REQUIRE(got.ok());
  CHECK(listOf(*got) == std::vector<std::string>{
                            "istio.networking.v1alpha3.DestinationRule shop/ratings-for-waypoint",
                            "istio.networking.v1alpha3.DestinationRule shop/reviews",
                            "istio.networking.v1alpha3.EnvoyFilter istio-system/rate-limit-mesh",
                            "istio.networking.v1alpha3.EnvoyFilter shop/rate-limit-gateway",
                            "istio.networking.v1alpha3.EnvoyFilter shop/rate-limit-reviews",
                            "istio.networking.v1alpha3.VirtualService other/exported",
                            "istio.networking.v1alpha3.VirtualService shop/reviews-route",
                            "istio.networking.v1alpha3.VirtualService shop/wildcard",
                            "istio.security.v1beta1.AuthorizationPolicy istio-system/all-waypoints",
                            "istio.security.v1beta1.AuthorizationPolicy shop/gateway-policy",
                            "istio.security.v1beta1.AuthorizationPolicy shop/reviews-policy",
                            "istio.security.v1beta1.RequestAuthentication shop/jwt",
                            "istio.telemetry.v1alpha1.Telemetry istio-system/mesh-default",
                            "istio.telemetry.v1alpha1.Telemetry shop/reviews-telemetry",
                            "istio.telemetry.v1alpha1.Telemetry shop/shop-old",
                        });
}

TEST_CASE("a service waypoint's config", "[waypoint-config]") {
  const auto objects = loadConfig();
  absl::StatusOr<std::vector<WaypointResource>> got =
      waypointResources(objects, Options{}, "shop", "other-wp");
  REQUIRE(got.ok());
  CHECK(listOf(*got) == std::vector<std::string>{
                            "istio.networking.v1alpha3.EnvoyFilter istio-system/rate-limit-mesh",
                            "istio.networking.v1alpha3.EnvoyFilter shop/rate-limit-selected",
                            "istio.networking.v1alpha3.VirtualService shop/wildcard",
                            "istio.security.v1beta1.AuthorizationPolicy istio-system/all-waypoints",
                            "istio.security.v1beta1.AuthorizationPolicy shop/payments-policy",
                            "istio.telemetry.v1alpha1.Telemetry istio-system/mesh-default",
                            "istio.telemetry.v1alpha1.Telemetry shop/shop-old",
                        });
}

TEST_CASE("the spec is the object's own typed body", "[waypoint-config]") {
  const auto objects = loadConfig();
  auto got = waypointResources(objects, Options{}, "shop", "waypoint");
  REQUIRE(got.ok());
  for (const WaypointResource& r : *got) {
    const auto it = std::find_if(objects.begin(), objects.end(),
                                 [&](const config::Object& o) { return o.body == r.spec; });
    REQUIRE(it != objects.end());
    CHECK(r.name == it->namespace_() + "/" + it->name());
  }
}

TEST_CASE("an unknown waypoint is NotFound", "[waypoint-config]") {
  const auto objects = loadConfig();
  absl::StatusOr<std::vector<WaypointResource>> got =
      waypointResources(objects, Options{}, "shop", "nope");
  REQUIRE_FALSE(got.ok());
  CHECK(got.status().code() == absl::StatusCode::kNotFound);
  CHECK(got.status().message() == "waypoint shop/nope not found or not ready");
}

}  // namespace
}  // namespace ambit::control::translate
