// ambitctl: the command-line tool of Ambit.
#include <iostream>
#include <string>
#include <vector>

#include "ctl/analyze/analyze_command.h"
#include "ctl/explain/x_command.h"
#include "ctl/proxy/proxy_config.h"
#include "ctl/proxy/proxy_status.h"

namespace {

constexpr const char* kUsage = R"(Usage: ambitctl COMMAND [ARGS]

Commands:
  analyze       check Istio and Kubernetes YAML as Ambit reads it
  proxy-status  whether each connected agent and waypoint is in sync with the control plane
  proxy-config  what one agent or waypoint holds: workloads, services, policies, certificates,
                routes
  x             experimental commands: 'x explain' explains what one HTTP request meets
  version       print the version
  help          show this help

Run 'ambitctl COMMAND --help' for a command's options.
)";

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
    (args.empty() ? std::cerr : std::cout) << kUsage;
    return args.empty() ? ambit::ctl::kExitUsage : ambit::ctl::kExitOk;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "analyze") return ambit::ctl::runAnalyze(rest, std::cout, std::cerr);
  if (args[0] == "proxy-status") return ambit::ctl::runProxyStatus(rest, std::cout, std::cerr);
  if (args[0] == "proxy-config") return ambit::ctl::runProxyConfig(rest, std::cout, std::cerr);
  if (args[0] == "x") return ambit::ctl::runExperimental(rest, std::cout, std::cerr);
  if (args[0] == "version") {
    std::cout << "ambitctl " << AMBIT_VERSION << "\n";
    return ambit::ctl::kExitOk;
  }
  std::cerr << "ambitctl: unknown command \"" << args[0] << "\"\n\n" << kUsage;
  return ambit::ctl::kExitUsage;
}
