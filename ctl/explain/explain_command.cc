#include "ctl/explain/explain_command.h"

#include <optional>

#include <absl/strings/ascii.h>

#include "core/config/loader.h"
#include "core/config/validate/validate.h"
#include "ctl/analyze/analyze_command.h"
#include "ctl/analyze/output.h"
#include "ctl/args.h"
#include "ctl/explain/explain.h"
#include "ctl/explain/explain_text.h"

namespace ambit::ctl {
namespace {

constexpr const char* kUsage =
    R"(Usage: ambitctl x explain -f FILE|DIR [-f FILE|DIR]... [--from NAMESPACE/WORKLOAD]
                         METHOD URL [-H 'name: value']... [-o text|json]

Explains, offline, what one HTTP request meets in the mesh described by the YAML: the Service the
URL's host names (resolved as a pod of the --from namespace resolves it: a short name, name.ns, a
full name or a cluster IP; port 80 unless the URL gives one), whether a waypoint carries it
(istio.io/use-waypoint on the Service or its Namespace), each route of its VirtualServices in
order and why it matched or not, and the decision: route, destinations and weights, rewrite,
redirect or direct response, header operations, timeout, retries, faults, mirrors, the
DestinationRule policy of each destination and the Pods (or Deployments) behind it. The waypoint's
own route decision does the matching.

Example:
  ambitctl x explain -f samples/waypoint -f samples/istio/02-destinationrule-pool-lb-subsets.yaml \
      -f samples/istio/04-ab-testing.yaml --from default/client \
      GET http://my-service/api -H 'x-user-type: beta'

Options:
  -f, --filename FILE|DIR   a YAML file, or a directory searched for *.yaml, *.yml and *.json
                            (repeatable; at least one)
      --from NS/WORKLOAD    the calling Deployment or Pod, for sourceNamespace and sourceLabels
                            matches (default default/unknown: no labels)
  -H, --header 'NAME: VALUE'
                            a request header (repeatable); 'Host: ...' replaces the URL's
  -o, --output FORMAT       text (default) or json
  -h, --help                show this help

Exit status: 0 when the request is explained (whatever its outcome), 1 when the YAML has errors
(as 'ambitctl analyze' reports them) or the URL names no Service or port of it, 2 on a usage
error.
)";

struct Options {
  std::vector<std::string> paths;
  explain::Request request;
  std::string output = "text";
  bool help = false;
};

// Returns the options, or nullopt after printing a usage error to `err`.
std::optional<Options> parse(const std::vector<std::string>& args, std::ostream& err) {
  Options options;
  std::vector<std::string> positional;
  auto usageError = [&](const std::string& message) -> std::optional<Options> {
    err << "ambitctl x explain: " << message << "\n(see 'ambitctl x explain --help')\n";
    return std::nullopt;
  };
  for (ArgReader reader(args); reader.next();) {
    const std::string& arg = reader.arg();
    const std::string& flag = reader.flag();
    if (flag == "-h" || flag == "--help") {
      options.help = true;
    } else if (flag == "-f" || flag == "--filename") {
      auto v = reader.value();
      if (!v || v->empty()) return usageError(flag + " needs a file or directory");
      options.paths.push_back(*v);
    } else if (flag == "--from") {
      auto v = reader.value();
      const size_t slash = v ? v->find('/') : std::string::npos;
      if (slash == std::string::npos || slash == 0 || slash + 1 == v->size() ||
          v->find('/', slash + 1) != std::string::npos) {
        return usageError("--from must be NAMESPACE/WORKLOAD");
      }
      options.request.from_namespace = v->substr(0, slash);
      options.request.from_workload = v->substr(slash + 1);
    } else if (flag == "-H" || flag == "--header") {
      auto v = reader.value();
      const size_t colon = v ? v->find(':') : std::string::npos;
      if (colon == std::string::npos || colon == 0) {
        return usageError(flag + " must be 'NAME: VALUE'");
      }
      options.request.headers.emplace_back(
          std::string(absl::StripAsciiWhitespace(v->substr(0, colon))),
          std::string(absl::StripAsciiWhitespace(v->substr(colon + 1))));
    } else if (flag == "-o" || flag == "--output") {
      auto v = reader.value();
      if (!v || (*v != "text" && *v != "json")) return usageError(flag + " must be text or json");
      options.output = *v;
    } else if (arg.size() > 1 && arg[0] == '-') {
      return usageError("unknown option " + arg);
    } else {
      positional.push_back(arg);
    }
  }
  if (options.help) return options;
  if (options.paths.empty()) return usageError("no input: give at least one -f FILE|DIR");
  if (positional.size() != 2) {
    return usageError(positional.size() < 2 ? "needs METHOD and URL"
                                            : "unexpected argument " + positional[2]);
  }
  options.request.method = positional[0];
  options.request.url = positional[1];
  return options;
}

}  // namespace

int runExplain(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  const auto options = parse(args, err);
  if (!options) return kExitUsage;
  if (options->help) {
    out << kUsage;
    return kExitOk;
  }
  config::LoadResult loaded;
  const config::Loader loader;
  for (const std::string& path : options->paths) loader.loadPath(path, loaded);
  std::vector<config::Diagnostic> findings = std::move(loaded.diagnostics);
  config::validate::validateAll(loaded.objects, findings);
  if (config::hasErrors(findings)) {
    std::vector<config::Diagnostic> errors;
    for (config::Diagnostic& d : findings) {
      if (d.severity == config::Severity::kError) errors.push_back(std::move(d));
    }
    config::sortDiagnostics(errors);
    printText(errors, loaded.objects.size(), options->paths.size(), err);
    err << "ambitctl x explain: the input has errors; fix them first\n";
    return kExitFindings;
  }

  const absl::StatusOr<explain::Explanation> explanation =
      explain::explainRequest(loaded.objects, options->request);
  if (!explanation.ok()) {
    err << "ambitctl x explain: " << explanation.status().message() << "\n";
    return explanation.status().code() == absl::StatusCode::kInvalidArgument ? kExitUsage
                                                                             : kExitFindings;
  }
  if (options->output == "json") {
    explain::printJson(*explanation, out);
  } else {
    explain::printText(*explanation, out);
  }
  return kExitOk;
}

}  // namespace ambit::ctl
