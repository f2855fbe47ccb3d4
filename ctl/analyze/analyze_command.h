// `ambitctl analyze`: loads Istio and Kubernetes YAML, validates each object and analyzes the set,
// printing findings with stable codes. Exit 0 without errors, 1 with errors, 2 on usage errors.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace ambit::ctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFindings = 1;
inline constexpr int kExitUsage = 2;

// Runs the command with its arguments (after the word "analyze").
int runAnalyze(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace ambit::ctl
