// Capture with nftables (`nft` and `ip` run inside the pod's netns with runCommandIn()).
//
// install() loads one table, `inet ambit`, in a single `nft -f -` transaction (an existing table is
// deleted in the same transaction, so re-installing is atomic and idempotent), and adds the policy
// routing of policy_routing.h for source-preserving inbound; conntrack marks the app's replies.
// See ruleset() for the table and docs on the marks in CaptureConfig.
#pragma once

#include <string>

#include "agent/capture/redirector.h"

namespace ambit::agent {

class NftablesRedirector : public Redirector {
 public:
  std::string name() const override { return "nftables"; }
  std::string debugJson() const override { return R"({"mode":"nftables"})"; }
  absl::Status install(const Netns& netns, const CaptureConfig& config,
                       const CaptureTarget& target) override;
  // Deletes the table, every ip rule at kLocalRoutingPriority (IPv4 and IPv6) and flushes the route
  // tables those rules pointed at. Works without knowing the config install() used.
  absl::Status remove(const Netns& netns) override;
  // Whether the `inet ambit` table exists in `netns`.
  absl::StatusOr<bool> installed(const Netns& netns) override;

  // The `nft -f` input install() loads (replaces any existing `inet ambit` table).
  static std::string ruleset(const CaptureConfig& config);
};

}  // namespace ambit::agent
