// Traffic capture: the rules that, inside a pod's network namespace, send the pod's TCP traffic
// to the agent's listeners in that namespace. One interface, several implementations ("nftables"
// now; an eBPF one later).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "agent/netns/netns.h"
#include "core/status.h"

namespace ambit::agent {

struct CaptureConfig {
  // The agent listens on 127.0.0.1:outbound_port in the pod's netns; the pod's outgoing TCP is
  // redirected there.
  uint16_t outbound_port = 15001;
  // The agent listens on 0.0.0.0:inbound_plaintext_port in the pod's netns; incoming TCP (except
  // to hbone_port and outbound_port) is redirected there.
  uint16_t inbound_plaintext_port = 15006;
  // The agent's HBONE listener in the pod's netns; never redirected.
  uint16_t hbone_port = 15008;
  // SO_MARK of every socket the agent opens in a pod's netns: such traffic is never captured.
  uint32_t mark = 0x539;
  // Packet mark given to the app's replies on connections the agent opened (found by their
  // conntrack mark); policy routing sends packets with this mark to the local stack (route_table).
  // Must differ from `mark`: the agent's own outgoing sockets carry `mark` and must route normally.
  uint32_t route_mark = 0x111;
  // Routing table holding "local 0.0.0.0/0 dev lo" (and ::/0 where the netns has IPv6).
  uint32_t route_table = 133;
};

class Redirector {
 public:
  virtual ~Redirector() = default;
  // The capture mode ("nftables").
  virtual std::string name() const = 0;
  // Installs (or replaces) capture in `netns`. Idempotent.
  virtual absl::Status install(const Netns& netns, const CaptureConfig& config) = 0;
  // Removes everything install() put in `netns`; OK when nothing is installed.
  virtual absl::Status remove(const Netns& netns) = 0;
  // Whether capture is installed in `netns`.
  virtual absl::StatusOr<bool> installed(const Netns& netns) = 0;
};

// The redirector of a capture mode; INVALID_ARGUMENT naming the valid modes for any other name.
absl::StatusOr<std::unique_ptr<Redirector>> makeRedirector(std::string_view mode);

}  // namespace ambit::agent
