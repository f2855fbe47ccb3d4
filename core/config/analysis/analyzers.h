// The analyzers `analyze()` runs, one function per family, each appending its findings.
#pragma once

#include <vector>

#include "core/config/analysis/analyze.h"
#include "core/config/analysis/mesh_index.h"

namespace ambit::config::analysis {

void analyzeVirtualServices(const std::vector<Object>& objects, const MeshIndex& index,
                            std::vector<Diagnostic>& out);
void analyzeDestinationRules(const std::vector<Object>& objects, const MeshIndex& index,
                             std::vector<Diagnostic>& out);
void analyzeAuthorizationPolicies(const std::vector<Object>& objects, const MeshIndex& index,
                                  std::vector<Diagnostic>& out);
void analyzeNamespaces(const std::vector<Object>& objects, const MeshIndex& index,
                       std::vector<Diagnostic>& out);
void analyzeEnvoyFilters(const std::vector<Object>& objects, std::vector<Diagnostic>& out);
void analyzeDuplicates(const std::vector<Object>& objects, std::vector<Diagnostic>& out);

}  // namespace ambit::config::analysis
