#include "agent/capture/bpf_reasons.h"

#include "ambit/capture_abi.h"

namespace ambit::agent {
namespace {

struct ReasonName {
  const char* hook;
  const char* label;
};

// In the enum's order; the static_assert below catches a reason added on one side only.
constexpr ReasonName kNames[] = {
    {"connect", "redirected"},
    {"connect", "not_tcp"},
    {"connect", "not_enrolled"},
    {"connect", "agent_socket"},
    {"connect", "loopback"},
    {"connect", "self"},
    {"connect", "dns"},
    {"connect", "table_full"},
    {"sockops", "rekeyed"},
    {"sockops", "table_full"},
    {"sockops", "delivery"},
    {"sockops", "fast_path"},
    {"getsockopt", "answered"},
    {"getsockopt", "local_address"},
    {"getpeername", "restored"},
    {"sk_msg", "redirected"},
    {"sk_msg", "passed"},
    {"sk_lookup", "steered"},
    {"sk_lookup", "not_tcp"},
    {"sk_lookup", "not_pod_address"},
    {"sk_lookup", "loopback"},
    {"sk_lookup", "agent_port"},
    {"sk_lookup", "agent_delivery"},
    {"sk_lookup", "no_listener"},
    {"sk_lookup", "assign_failed"},
};
static_assert(sizeof kNames / sizeof kNames[0] == AMBIT_CAPTURE_REASON_COUNT,
              "one name per enum ambit_capture_reason");

}  // namespace

const char* bpfReasonHook(uint32_t reason) {
  return reason < AMBIT_CAPTURE_REASON_COUNT ? kNames[reason].hook : "unknown";
}

const char* bpfReasonLabel(uint32_t reason) {
  return reason < AMBIT_CAPTURE_REASON_COUNT ? kNames[reason].label : "unknown";
}

}  // namespace ambit::agent
