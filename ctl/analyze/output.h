// Renders findings as text (one line each, then a summary) or as a JSON array.
#pragma once

#include <ostream>
#include <vector>

#include "core/config/diagnostic.h"

namespace ambit::ctl {

void printText(const std::vector<config::Diagnostic>& diagnostics, size_t objects, size_t paths,
               std::ostream& out);
void printJson(const std::vector<config::Diagnostic>& diagnostics, std::ostream& out);

}  // namespace ambit::ctl
