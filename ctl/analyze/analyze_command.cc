#include "ctl/analyze/analyze_command.h"

#include <optional>

#include "core/config/analysis/analyze.h"
#include "core/config/loader.h"
#include "core/config/validate/validate.h"
#include "ctl/analyze/output.h"
#include "ctl/args.h"

namespace ambit::ctl {
namespace {

constexpr const char* kUsage =
    R"(Usage: ambitctl analyze -f FILE|DIR [-f FILE|DIR]... [-o text|json]

Checks Istio and Kubernetes YAML the way Ambit reads it: every document is parsed strictly
(unknown fields, wrong types, bad enums and durations are errors), validated by the rules of its
kind, and the whole set is analyzed for broken references and rules Ambit cannot enforce.
Findings have a stable code (AMB0xxx), a severity, the object, the file and line.

Options:
  -f, --filename FILE|DIR  a YAML file, or a directory searched for *.yaml, *.yml and *.json
                           (repeatable; plain arguments are taken as files too)
  -o, --output FORMAT      text (default) or json
  -h, --help               show this help

Exit status: 0 when there are no errors (warnings allowed), 1 when there are errors, 2 on a usage
error.
)";

struct Options {
  std::vector<std::string> paths;
  std::string output = "text";
  bool help = false;
};

// Returns the options, or nullopt after printing a usage error to `err`.
std::optional<Options> parse(const std::vector<std::string>& args, std::ostream& err) {
  Options options;
  auto usageError = [&](const std::string& message) -> std::optional<Options> {
    err << "ambitctl analyze: " << message << "\n(see 'ambitctl analyze --help')\n";
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
    } else if (flag == "-o" || flag == "--output") {
      auto v = reader.value();
      if (!v || (*v != "text" && *v != "json")) {
        return usageError(flag + " must be text or json");
      }
      options.output = *v;
    } else if (!arg.empty() && arg[0] == '-') {
      return usageError("unknown option " + arg);
    } else {
      options.paths.push_back(arg);
    }
  }
  if (!options.help && options.paths.empty()) {
    return usageError("no input: give at least one -f FILE|DIR");
  }
  return options;
}

}  // namespace

int runAnalyze(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
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
  for (config::Diagnostic& d : config::analysis::analyze(loaded.objects)) {
    findings.push_back(std::move(d));
  }
  config::sortDiagnostics(findings);

  if (options->output == "json") {
    printJson(findings, out);
  } else {
    printText(findings, loaded.objects.size(), options->paths.size(), out);
  }
  return config::hasErrors(findings) ? kExitFindings : kExitOk;
}

}  // namespace ambit::ctl
