// SPDX-License-Identifier: GPL-2.0
/* Runs the capture decisions (capture_decide.h) inside the kernel for the agent's unit tests:
 * BPF_PROG_TEST_RUN passes a struct decide_case as the context and reads the reason back from
 * it. test/agent/capture/bpf_decide_test.cc runs the same table through the C++ build. */
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>

#include "ambit/capture_decide.h"
#include "ambit/decide_test_case.h"

char LICENSE[] SEC("license") = "GPL";

SEC("syscall")
int ambit_decide(struct ambit_decide_case* ctx) {
  /* The verifier takes context fields only at fixed offsets: decide on a copy. */
  struct ambit_decide_case c;
  __builtin_memcpy(&c, ctx, sizeof(c));
  const struct ambit_netns_config* netns = c.enrolled ? &c.netns : 0;
  __u32 reason;
  if (c.hook == AMBIT_DECIDE_CONNECT) {
    reason = ambit_decide_connect(&c.connect, netns);
  } else {
    reason = ambit_decide_lookup(&c.lookup, netns);
  }
  ctx->reason = reason;
  return 0;
}
