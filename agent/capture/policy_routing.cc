#include "agent/capture/policy_routing.h"

#include <fstream>
#include <set>
#include <sstream>

#include <absl/strings/str_format.h>

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
  const std::string priority = std::to_string(kLocalRoutingPriority);
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

}  // namespace

absl::Status removeLocalRouting(const Netns& netns) {
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

absl::Status installLocalRouting(const Netns& netns, const CaptureConfig& config) {
  AMBIT_RETURN_IF_ERROR(removeLocalRouting(netns));
  const std::string mark = absl::StrFormat("0x%x", config.route_mark);
  const std::string table = std::to_string(config.route_table);
  const std::string priority = std::to_string(kLocalRoutingPriority);
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
  return absl::OkStatus();
}

absl::Status setNetnsSysctl(const Netns& netns, const std::string& key, const std::string& value) {
  return runIn(netns, [&] {
    std::ofstream out("/proc/sys/" + key);
    out << value;
    out.flush();
    if (!out) return absl::InternalError(absl::StrCat("set sysctl ", key, "=", value));
    return absl::OkStatus();
  });
}

}  // namespace ambit::agent
