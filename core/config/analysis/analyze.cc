#include "core/config/analysis/analyze.h"

#include <map>

#include <absl/strings/str_cat.h>

#include "core/config/analysis/analyzers.h"
#include "core/config/codes.h"

namespace ambit::config::analysis {

Diagnostic finding(const Object& object, const char* code, Severity severity,
                   const std::string& path, std::string message) {
  Diagnostic d;
  d.code = code;
  d.severity = severity;
  d.object = object.ref();
  d.origin = object.originOf(path);
  d.field = path;
  d.message = std::move(message);
  return d;
}

void analyzeDuplicates(const std::vector<Object>& objects, std::vector<Diagnostic>& out) {
  std::map<std::string, const Object*> seen;
  for (const Object& o : objects) {
    if (o.name().empty()) continue;
    auto [it, inserted] = seen.emplace(o.ref().display(), &o);
    if (!inserted) {
      out.push_back(finding(o, codes::kDuplicateObject, Severity::kError, "metadata.name",
                            absl::StrCat("is defined twice; the other definition is at ",
                                         it->second->origin.file, ":", it->second->origin.line)));
    }
  }
}

std::vector<Diagnostic> analyze(const std::vector<Object>& objects) {
  std::vector<Diagnostic> out;
  const MeshIndex index(objects);
  analyzeDuplicates(objects, out);
  analyzeVirtualServices(objects, index, out);
  analyzeDestinationRules(objects, index, out);
  analyzeAuthorizationPolicies(objects, index, out);
  analyzeNamespaces(objects, index, out);
  analyzeEnvoyFilters(objects, out);
  return out;
}

}  // namespace ambit::config::analysis
