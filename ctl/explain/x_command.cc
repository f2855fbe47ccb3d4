#include "ctl/explain/x_command.h"

#include "ctl/analyze/analyze_command.h"
#include "ctl/explain/explain_command.h"

namespace ambit::ctl {
namespace {

constexpr const char* kUsage = R"(Usage: ambitctl x COMMAND [ARGS]

Experimental commands: their output and options may still change.

Commands:
  explain    explain what one HTTP request meets: its Service, waypoint, routes and policy

Run 'ambitctl x COMMAND --help' for a command's options.
)";

}  // namespace

int runExperimental(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty() || args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
    (args.empty() ? err : out) << kUsage;
    return args.empty() ? kExitUsage : kExitOk;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "explain") return runExplain(rest, out, err);
  err << "ambitctl x: unknown command \"" << args[0] << "\"\n\n" << kUsage;
  return kExitUsage;
}

}  // namespace ambit::ctl
