// Capture with nftables (`nft` and `ip` run inside the pod's netns with runCommandIn()).
//
// install() loads one table, `inet ambit`, in a single `nft -f -` transaction (an existing table is
// deleted in the same transaction, so re-installing is atomic and idempotent), and adds policy
// routing for source-preserving inbound:
//   ip -4 rule add fwmark <route_mark> lookup <route_table> priority 32764
//   ip -4 route replace local 0.0.0.0/0 dev lo table <route_table>
//   (and the same with -6 / ::/0 when IPv6 is enabled in the netns)
// See ruleset() for the table and docs on the marks in CaptureConfig.
#pragma once

#include <string>

#include "agent/capture/redirector.h"

namespace ambit::agent {

class NftablesRedirector : public Redirector {
 public:
  // Priority of the ip rules install() adds.
  static constexpr int kRulePriority = 32764;

  std::string name() const override { return "nftables"; }
  absl::Status install(const Netns& netns, const CaptureConfig& config) override;
  // Deletes the table, every ip rule at kRulePriority (IPv4 and IPv6) and flushes the route
  // tables those rules pointed at. Works without knowing the config install() used.
  absl::Status remove(const Netns& netns) override;
  // Whether the `inet ambit` table exists in `netns`.
  absl::StatusOr<bool> installed(const Netns& netns) override;

  // The `nft -f` input install() loads (replaces any existing `inet ambit` table).
  static std::string ruleset(const CaptureConfig& config);
};

}  // namespace ambit::agent
