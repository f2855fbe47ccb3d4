// The snapshot of a translation: every Address and Authorization resource packed under its
// name, with content versions, and both types present even when empty.
#include <filesystem>

#include <catch2/catch.hpp>

#include "control/translate/snapshot.h"
#include "core/config/loader.h"

namespace ambit::control::translate {
namespace {

std::vector<config::Object> loadCase(const std::string& name) {
  config::LoadResult loaded;
  config::Loader().loadPath(
      (std::filesystem::path(AMBIT_SOURCE_DIR) / "test/control/translate/cases" / name).string(),
      loaded);
  return std::move(loaded.objects);
}

TEST_CASE("snapshot holds each translated resource under its name", "[snapshot]") {
  const auto objects = loadCase("root-namespace.yaml");
  const Translation t = translate(objects, Options{});
  const xds::Snapshot snapshot = buildSnapshot(objects, Options{});
  REQUIRE(snapshot.types.size() == 2);
  const xds::TypeResources& addresses = snapshot.types.at(xds::kAddressType);
  const xds::TypeResources& authorizations = snapshot.types.at(xds::kAuthorizationType);
  REQUIRE(addresses.size() == t.addresses.size());
  REQUIRE(authorizations.size() == t.authorizations.size());
  CHECK(addresses.size() == 3);
  CHECK(authorizations.size() == 3);
  for (const NamedAddress& a : t.addresses) {
    const xds::ResourcePtr& r = addresses.at(a.name);
    CHECK(r->name == a.name);
    CHECK(r->body.type_url() == xds::kAddressType);
    istio::workload::Address unpacked;
    REQUIRE(r->body.UnpackTo(&unpacked));
    CHECK(unpacked.SerializeAsString() == a.address.SerializeAsString());
    CHECK_FALSE(r->version.empty());
  }
  const xds::ResourcePtr& strict = authorizations.at("istio-system/istio_converted_static_strict");
  CHECK(strict->body.type_url() == xds::kAuthorizationType);
  istio::security::Authorization policy;
  REQUIRE(strict->body.UnpackTo(&policy));
  CHECK(policy.name() == "istio_converted_static_strict");
  CHECK(policy.action() == istio::security::DENY);
}

TEST_CASE("equal content, equal versions; changed content, changed version", "[snapshot]") {
  const auto objects = loadCase("ambient-pod-service.yaml");
  const xds::Snapshot a = buildSnapshot(objects, Options{});
  const xds::Snapshot b = buildSnapshot(objects, Options{});
  for (const auto& [type, resources] : a.types) {
    for (const auto& [name, resource] : resources) {
      CHECK(b.types.at(type).at(name)->version == resource->version);
    }
  }
  Options other;
  other.network = "net-2";
  const xds::Snapshot c = buildSnapshot(objects, other);
  const std::string uid = "Kubernetes//Pod/shop/ratings";
  CHECK(c.types.at(xds::kAddressType).at(uid)->version !=
        a.types.at(xds::kAddressType).at(uid)->version);
}

TEST_CASE("an empty set still has both types", "[snapshot]") {
  const xds::Snapshot snapshot = buildSnapshot({}, Options{});
  REQUIRE(snapshot.types.size() == 2);
  CHECK(snapshot.types.at(xds::kAddressType).empty());
  CHECK(snapshot.types.at(xds::kAuthorizationType).empty());
}

}  // namespace
}  // namespace ambit::control::translate
