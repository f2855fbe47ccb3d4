// Shared code of the validation tests: load a YAML document and list its validation issues as
// "error spec.hosts[0]: message" lines, so a table row states exactly what must be found.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/config/loader.h"
#include "core/config/validate/validate.h"

namespace ambit::config::validate::testing {

inline std::string line(const Issue& issue) {
  return std::string(issue.severity == Severity::kError ? "error " : "warning ") + issue.path +
         ": " + issue.message;
}

// Loads `yaml`, which must hold exactly one object that loads cleanly, and validates it.
inline std::vector<std::string> issuesOf(const std::string& yaml) {
  LoadResult result;
  Loader().loadText(yaml, "test.yaml", result);
  std::string diagnostics;
  for (const Diagnostic& d : result.diagnostics) diagnostics += d.format() + "\n";
  INFO(diagnostics);
  REQUIRE(result.diagnostics.empty());
  REQUIRE(result.objects.size() == 1);
  std::vector<std::string> lines;
  const Issues issues = validateObject(result.objects[0]);
  for (const Issue& issue : issues.items()) lines.push_back(line(issue));
  return lines;
}

// A document of the given apiVersion and kind named "test" whose spec is `spec` (YAML written
// without indentation; it is indented under "spec:").
inline std::string document(const std::string& api_version, const std::string& kind,
                            const std::string& spec) {
  std::ostringstream out;
  out << "apiVersion: " << api_version << "\nkind: " << kind
      << "\nmetadata:\n  name: test\n  namespace: default\nspec:\n";
  std::istringstream in(spec);
  for (std::string text; std::getline(in, text);) {
    if (!text.empty()) out << "  " << text << "\n";
  }
  return out.str();
}

// Loads every document of `yaml` (which must load cleanly) and lists the issues of all objects
// as "VirtualService default/name: error spec.hosts[0]: message" lines.
inline std::vector<std::string> issuesOfAll(const std::string& yaml) {
  LoadResult result;
  Loader().loadText(yaml, "test.yaml", result);
  std::string diagnostics;
  for (const Diagnostic& d : result.diagnostics) diagnostics += d.format() + "\n";
  INFO(diagnostics);
  REQUIRE(result.diagnostics.empty());
  std::vector<std::string> lines;
  for (const Object& object : result.objects) {
    const Issues issues = validateObject(object);
    for (const Issue& issue : issues.items()) {
      lines.push_back(object.ref().display() + ": " + line(issue));
    }
  }
  return lines;
}

// One row of a table: a spec and every issue it must produce, in order.
struct Case {
  std::string spec;
  std::vector<std::string> expected;
};

inline void checkCases(const std::string& api_version, const std::string& kind,
                       const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    INFO(kind << " spec:\n" << c.spec);
    CHECK(issuesOf(document(api_version, kind, c.spec)) == c.expected);
  }
}

}  // namespace ambit::config::validate::testing
