// Names of the eBPF capture's decision reasons (enum ambit_capture_reason in
// bpf/include/ambit/capture_abi.h), for metrics and the admin.
#pragma once

#include <cstdint>

namespace ambit::agent {

// The hook that counts `reason`: "connect", "sockops", "getsockopt" or "sk_lookup".
const char* bpfReasonHook(uint32_t reason);
// The `reason` label, e.g. "redirected" or "no_listener"; "unknown" past the last reason.
const char* bpfReasonLabel(uint32_t reason);

}  // namespace ambit::agent
