#include "core/xds/workload_labels.h"

#include <catch2/catch.hpp>

namespace ambit::xds {
namespace {

TEST_CASE("workload labels travel in the ambit.io/labels extension") {
  istio::workload::Workload workload;
  CHECK(workloadLabels(workload).empty());
  setWorkloadLabels({{"app", "echo"}, {"version", "v2"}}, workload);
  REQUIRE(workload.extensions_size() == 1);
  CHECK(workload.extensions(0).name() == "ambit.io/labels");
  CHECK(workload.extensions(0).config().type_url() ==
        "type.googleapis.com/ambit.workload.v1.WorkloadLabels");
  CHECK(workloadLabels(workload) ==
        std::map<std::string, std::string>{{"app", "echo"}, {"version", "v2"}});
  // Replaced, not added twice; equal labels give equal bytes (resource versions hash them).
  const std::string before = workload.extensions(0).config().value();
  setWorkloadLabels({{"version", "v2"}, {"app", "echo"}}, workload);
  REQUIRE(workload.extensions_size() == 1);
  CHECK(workload.extensions(0).config().value() == before);
  // No labels: no extension.
  setWorkloadLabels({}, workload);
  CHECK(workload.extensions_size() == 0);
}

TEST_CASE("an extension of another type gives no labels") {
  istio::workload::Workload workload;
  istio::workload::Extension& extension = *workload.add_extensions();
  extension.set_name("ambit.io/labels");
  extension.mutable_config()->set_type_url("type.googleapis.com/istio.workload.Workload");
  CHECK(workloadLabels(workload).empty());
}

}  // namespace
}  // namespace ambit::xds
