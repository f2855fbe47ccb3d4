#include "agent/capture/nftables_redirector.h"

#include <fstream>
#include <set>
#include <sstream>

#include <absl/strings/str_format.h>

#include "core/log.h"

namespace ambit::agent {
namespace {

constexpr char kFamilies[][3] = {"-4", "-6"};

// Whether the netns has IPv6 (the kernel has it and it is not disabled on lo).
bool ipv6Enabled(const Netns& netns) {
  bool enabled = false;
  const absl::Status status = runIn(netns, [&] {
    std::ifstream in("/proc/sys/net/ipv6/conf/lo/disable_ipv6");
    int disabled = 1;
    enabled = static_cast<bool>(in >> disabled) && disabled == 0;
    return absl::OkStatus();
  });
  return status.ok() && enabled;
}

// Deletes every rule of `family` at our priority; adds the tables they looked up to `tables`.
absl::Status deleteRules(const Netns& netns, const char* family, std::set<std::string>& tables) {
  const std::string priority = std::to_string(NftablesRedirector::kRulePriority);
  AMBIT_ASSIGN_OR_RETURN(std::string listing,
                         runCommandIn(netns, {"ip", family, "rule", "show", "priority", priority}));
  std::istringstream lines(listing);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    std::istringstream words(line);
    std::string word;
    while (words >> word) {
      if ((word == "lookup" || word == "table") && words >> word) tables.insert(word);
    }
    AMBIT_RETURN_IF_ERROR(
        runCommandIn(netns, {"ip", family, "rule", "del", "priority", priority}).status());
  }
  return absl::OkStatus();
}

absl::Status removeRouting(const Netns& netns) {
  const bool v6 = ipv6Enabled(netns);
  for (const char* family : kFamilies) {
    if (family[1] == '6' && !v6) continue;
    std::set<std::string> tables;
    AMBIT_RETURN_IF_ERROR(deleteRules(netns, family, tables));
    for (const std::string& table : tables) {
      AMBIT_RETURN_IF_ERROR(
          runCommandIn(netns, {"ip", family, "route", "flush", "table", table}).status());
    }
  }
  return absl::OkStatus();
}

}  // namespace

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

absl::Status NftablesRedirector::install(const Netns& netns, const CaptureConfig& config) {
  if (config.mark == config.route_mark) {
    return absl::InvalidArgumentError("capture: mark and route_mark must differ");
  }
  AMBIT_RETURN_IF_ERROR(removeRouting(netns));
  const std::string mark = absl::StrFormat("0x%x", config.route_mark);
  const std::string table = std::to_string(config.route_table);
  const std::string priority = std::to_string(kRulePriority);
  const bool v6 = ipv6Enabled(netns);
  for (const char* family : kFamilies) {
    if (family[1] == '6' && !v6) continue;
    AMBIT_RETURN_IF_ERROR(
        runCommandIn(netns, {"ip", family, "route", "replace", "local",
                             family[1] == '6' ? "::/0" : "0.0.0.0/0", "dev", "lo", "table", table})
            .status());
    AMBIT_RETURN_IF_ERROR(runCommandIn(netns, {"ip", family, "rule", "add", "fwmark", mark,
                                               "lookup", table, "priority", priority})
                              .status());
  }
  AMBIT_RETURN_IF_ERROR(runCommandIn(netns, {"nft", "-f", "-"}, ruleset(config)).status());
  log::get("capture")->debug("nftables capture installed in netns {}", netns.inode());
  return absl::OkStatus();
}

absl::Status NftablesRedirector::remove(const Netns& netns) {
  AMBIT_RETURN_IF_ERROR(
      runCommandIn(netns, {"nft", "-f", "-"}, "table inet ambit {}\ndelete table inet ambit\n")
          .status());
  AMBIT_RETURN_IF_ERROR(removeRouting(netns));
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

absl::StatusOr<std::unique_ptr<Redirector>> makeRedirector(std::string_view mode) {
  if (mode == "nftables") return std::make_unique<NftablesRedirector>();
  return absl::InvalidArgumentError(absl::StrCat("unknown capture mode \"",
                                                 absl::string_view(mode.data(), mode.size()),
                                                 "\"; valid modes: nftables"));
}

}  // namespace ambit::agent
