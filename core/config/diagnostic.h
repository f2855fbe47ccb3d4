// Findings about configuration (from loading, validation and analysis), each with a stable code,
// a severity, the object it is about and where in which file it came from.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ambit::config {

enum class Severity { kInfo, kWarning, kError };

const char* severityName(Severity severity);  // "Info", "Warning", "Error"

// Where a document or field came from; line is 1-based, 0 when unknown.
struct Origin {
  std::string file;
  int line = 0;
};

// The object a finding is about; empty kind when the document had none.
struct ObjectRef {
  std::string kind;
  std::string namespace_;
  std::string name;

  // "VirtualService default/reviews", "Namespace demo", or "" when unknown.
  std::string display() const;
};

struct Diagnostic {
  std::string code;  // stable, e.g. "AMB0101"; see docs/analyze.md
  Severity severity = Severity::kError;
  ObjectRef object;
  Origin origin;
  std::string field;  // field path such as "spec.http[0].route[1].weight", may be empty
  std::string message;

  // One line: `Error [AMB0101] (VirtualService default/x samples/x.yaml:12) spec.a: message`.
  std::string format() const;
};

// Sorts by file, line, code and message so output is stable across runs.
void sortDiagnostics(std::vector<Diagnostic>& diagnostics);

bool hasErrors(const std::vector<Diagnostic>& diagnostics);

}  // namespace ambit::config
