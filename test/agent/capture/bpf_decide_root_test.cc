// Needs root (CTest label "root"): the decision table of decide_cases.h run in the kernel by
// bpf/decide_test.bpf.c (BPF_PROG_TEST_RUN), which must agree with the C++ build.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include <catch2/catch.hpp>

#include "agent/capture/bpf_reasons.h"
#include "bpf/decide_test.skel.h"
#include "test/agent/capture/decide_cases.h"

namespace ambit::agent {
namespace {

TEST_CASE("the kernel decides each row as the C++ build does", "[capture][bpf]") {
  std::unique_ptr<ambit_decide_test, void (*)(ambit_decide_test*)> skel(
      ambit_decide_test__open_and_load(), ambit_decide_test__destroy);
  if (!skel) FAIL("load bpf/decide_test.bpf.c: " << std::strerror(errno));
  const int prog = bpf_program__fd(skel->progs.ambit_decide);
  for (const testing::DecideRow& row : testing::decideRows()) {
    INFO(row.name);
    ambit_decide_case c = row.input;
    c.reason = AMBIT_CAPTURE_REASON_COUNT;
    // A syscall program's context is copied back into ctx_in; the kernel refuses ctx_out.
    bpf_test_run_opts opts{};
    opts.sz = sizeof opts;
    opts.ctx_in = &c;
    opts.ctx_size_in = sizeof c;
    const int err = bpf_prog_test_run_opts(prog, &opts);
    INFO("BPF_PROG_TEST_RUN: " << (err == 0 ? "ok" : std::strerror(-err)));
    REQUIRE(err == 0);
    CHECK(opts.retval == 0);
    const ambit_capture_reason here = testing::decideInProcess(row.input);
    INFO("kernel " << bpfReasonLabel(c.reason) << ", C++ " << bpfReasonLabel(here) << ", expected "
                   << bpfReasonLabel(row.expected));
    CHECK(c.reason == static_cast<uint32_t>(here));
    CHECK(c.reason == static_cast<uint32_t>(row.expected));
  }
}

}  // namespace
}  // namespace ambit::agent
