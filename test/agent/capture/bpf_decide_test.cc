// The capture decisions (bpf/include/ambit/capture_decide.h) in the C++ build, over the table of
// decide_cases.h; bpf_decide_root_test.cc runs the same table in the kernel.
#include <set>

#include <catch2/catch.hpp>

#include "agent/capture/bpf_reasons.h"
#include "test/agent/capture/decide_cases.h"

namespace ambit::agent {
namespace {

using testing::decideInProcess;
using testing::decideRows;

TEST_CASE("each decision row gives its reason", "[capture][bpf]") {
  for (const testing::DecideRow& row : decideRows()) {
    INFO(row.name);
    const ambit_capture_reason got = decideInProcess(row.input);
    INFO("got " << bpfReasonLabel(got) << ", expected " << bpfReasonLabel(row.expected));
    CHECK(got == row.expected);
  }
}

TEST_CASE("the decision table covers every reason each decision returns", "[capture][bpf]") {
  std::set<int> connect;
  std::set<int> lookup;
  for (const testing::DecideRow& row : decideRows()) {
    (row.input.hook == AMBIT_DECIDE_CONNECT ? connect : lookup).insert(row.expected);
  }
  // AMBIT_CONNECT_TABLE_FULL, NO_LISTENER and ASSIGN_FAILED come from the programs, not the
  // decisions.
  CHECK(connect == std::set<int>{AMBIT_CONNECT_REDIRECTED, AMBIT_CONNECT_NOT_TCP,
                                 AMBIT_CONNECT_NOT_ENROLLED, AMBIT_CONNECT_AGENT_SOCKET,
                                 AMBIT_CONNECT_LOOPBACK, AMBIT_CONNECT_SELF, AMBIT_CONNECT_DNS});
  CHECK(lookup == std::set<int>{AMBIT_LOOKUP_STEERED, AMBIT_LOOKUP_NOT_TCP,
                                AMBIT_LOOKUP_NOT_POD_ADDRESS, AMBIT_LOOKUP_LOOPBACK,
                                AMBIT_LOOKUP_AGENT_PORT, AMBIT_LOOKUP_AGENT_DELIVERY});
}

}  // namespace
}  // namespace ambit::agent
