#include "ctl/analyze/output.h"

#include <string>

#include "core/json/json_writer.h"

namespace ambit::ctl {

void printText(const std::vector<config::Diagnostic>& diagnostics, size_t objects, size_t paths,
               std::ostream& out) {
  size_t errors = 0;
  size_t warnings = 0;
  for (const config::Diagnostic& d : diagnostics) {
    out << d.format() << "\n";
    errors += d.severity == config::Severity::kError;
    warnings += d.severity == config::Severity::kWarning;
  }
  const auto plural = [](size_t n, const char* word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
  };
  if (diagnostics.empty()) {
    out << "No issues found";
  } else {
    out << "Found " << plural(errors, "error") << " and " << plural(warnings, "warning");
  }
  out << " in " << plural(objects, "object") << " from " << plural(paths, "path");
  out << ".\n";
}

using json::quote;

void printJson(const std::vector<config::Diagnostic>& diagnostics, std::ostream& out) {
  // Written by hand so keys keep a fixed order and output is byte-stable.
  out << "[";
  for (size_t i = 0; i < diagnostics.size(); ++i) {
    const config::Diagnostic& d = diagnostics[i];
    out << (i == 0 ? "\n" : ",\n") << "  {\"code\": " << quote(d.code)
        << ", \"level\": " << quote(config::severityName(d.severity))
        << ",\n   \"object\": {\"kind\": " << quote(d.object.kind)
        << ", \"namespace\": " << quote(d.object.namespace_)
        << ", \"name\": " << quote(d.object.name)
        << "},\n   \"origin\": {\"file\": " << quote(d.origin.file)
        << ", \"line\": " << d.origin.line << "},\n   \"field\": " << quote(d.field)
        << ",\n   \"message\": " << quote(d.message) << "}";
  }
  out << (diagnostics.empty() ? "]\n" : "\n]\n");
}

}  // namespace ambit::ctl
