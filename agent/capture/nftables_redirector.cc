#include "agent/capture/nftables_redirector.h"

#include <sstream>

#include <absl/strings/str_format.h>

#include "agent/capture/policy_routing.h"
#include "core/log.h"

namespace ambit::agent {

std::string NftablesRedirector::ruleset(const CaptureConfig& c) {
  // Marks are compared exactly. Only the first packet of a connection goes through nat chains, so
  // the app's replies (which may carry route_mark) never meet the redirects.
  return absl::StrFormat(
      R"(table inet ambit {}
delete table inet ambit
table inet ambit {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		meta mark 0x%x return
		iif "lo" return
		tcp dport { %d, %d } return
		meta l4proto tcp redirect to :%d
	}
	chain output {
		type nat hook output priority -100; policy accept;
		meta mark 0x%x return
		oif "lo" return
		ip daddr 127.0.0.0/8 return
		ip6 daddr ::1 return
		tcp dport 53 return
		meta l4proto tcp redirect to :%d
	}
	chain output_route {
		type route hook output priority mangle; policy accept;
		meta mark 0x%x ct direction original ct mark set 0x%x
		ct direction reply ct mark 0x%x meta mark set 0x%x
	}
}
)",
      c.mark, c.hbone_port, c.outbound_port, c.inbound_plaintext_port, c.mark, c.outbound_port,
      c.mark, c.mark, c.mark, c.route_mark);
}

absl::Status NftablesRedirector::install(const Netns& netns, const CaptureConfig& config,
                                         const CaptureTarget& /*target*/) {
  if (config.mark == config.route_mark) {
    return absl::InvalidArgumentError("capture: mark and route_mark must differ");
  }
  AMBIT_RETURN_IF_ERROR(installLocalRouting(netns, config));
  AMBIT_RETURN_IF_ERROR(runCommandIn(netns, {"nft", "-f", "-"}, ruleset(config)).status());
  log::get("capture")->debug("nftables capture installed in netns {}", netns.inode());
  return absl::OkStatus();
}

absl::Status NftablesRedirector::remove(const Netns& netns) {
  AMBIT_RETURN_IF_ERROR(
      runCommandIn(netns, {"nft", "-f", "-"}, "table inet ambit {}\ndelete table inet ambit\n")
          .status());
  AMBIT_RETURN_IF_ERROR(removeLocalRouting(netns));
  log::get("capture")->debug("nftables capture removed from netns {}", netns.inode());
  return absl::OkStatus();
}

absl::StatusOr<bool> NftablesRedirector::installed(const Netns& netns) {
  AMBIT_ASSIGN_OR_RETURN(std::string tables,
                         runCommandIn(netns, {"nft", "list", "tables", "inet"}));
  std::istringstream lines(tables);
  std::string line;
  while (std::getline(lines, line)) {
    if (line == "table inet ambit") return true;
  }
  return false;
}

}  // namespace ambit::agent
