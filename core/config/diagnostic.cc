#include "core/config/diagnostic.h"

#include <algorithm>
#include <tuple>

#include <absl/strings/str_cat.h>

namespace ambit::config {

const char* severityName(Severity severity) {
  switch (severity) {
    case Severity::kInfo:
      return "Info";
    case Severity::kWarning:
      return "Warning";
    case Severity::kError:
      return "Error";
  }
  return "Error";
}

std::string ObjectRef::display() const {
  if (kind.empty()) return name;
  if (name.empty()) return kind;
  if (namespace_.empty()) return absl::StrCat(kind, " ", name);
  return absl::StrCat(kind, " ", namespace_, "/", name);
}

std::string Diagnostic::format() const {
  std::string where = object.display();
  if (!origin.file.empty()) {
    absl::StrAppend(&where, where.empty() ? "" : " ", origin.file);
    if (origin.line > 0) absl::StrAppend(&where, ":", origin.line);
  }
  std::string out = absl::StrCat(severityName(severity), " [", code, "]");
  if (!where.empty()) absl::StrAppend(&out, " (", where, ")");
  absl::StrAppend(&out, " ", field.empty() ? "" : absl::StrCat(field, ": "), message);
  return out;
}

void sortDiagnostics(std::vector<Diagnostic>& diagnostics) {
  std::stable_sort(diagnostics.begin(), diagnostics.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     return std::tie(a.origin.file, a.origin.line, a.code, a.field, a.message) <
                            std::tie(b.origin.file, b.origin.line, b.code, b.field, b.message);
                   });
}

bool hasErrors(const std::vector<Diagnostic>& diagnostics) {
  return std::any_of(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic& d) { return d.severity == Severity::kError; });
}

}  // namespace ambit::config
