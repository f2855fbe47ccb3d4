// Findings across objects, in the spirit of `istioctl analyze`: references to subsets, hosts and
// gateways, conflicting rules, policies the data plane cannot enforce as written.
#pragma once

#include <string>
#include <vector>

#include "core/config/diagnostic.h"
#include "core/config/object.h"

namespace ambit::config::analysis {

// Runs every analyzer over a set of loaded objects. The set may be partial: a reference to
// something absent is a warning; a contradiction inside the set is an error.
std::vector<Diagnostic> analyze(const std::vector<Object>& objects);

// A finding about a field of an object, located through the object's field lines.
Diagnostic finding(const Object& object, const char* code, Severity severity,
                   const std::string& path, std::string message);

}  // namespace ambit::config::analysis
