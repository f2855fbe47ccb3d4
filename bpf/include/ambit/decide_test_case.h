/* The context of bpf/decide_test.bpf.c: one decision's inputs, and its result. */
#ifndef AMBIT_BPF_DECIDE_TEST_CASE_H
#define AMBIT_BPF_DECIDE_TEST_CASE_H

#include "ambit/capture_decide.h"

#define AMBIT_DECIDE_CONNECT 0
#define AMBIT_DECIDE_LOOKUP 1

struct ambit_decide_case {
  __u32 hook;     /* AMBIT_DECIDE_CONNECT or AMBIT_DECIDE_LOOKUP */
  __u32 enrolled; /* whether netns applies */
  struct ambit_netns_config netns;
  struct ambit_connect_facts connect;
  struct ambit_lookup_facts lookup;
  __u32 reason; /* out: enum ambit_capture_reason */
  __u32 reserved;
};

#endif
