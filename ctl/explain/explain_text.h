// An explanation (explain.h) as the text and JSON `ambitctl x explain` prints.
#pragma once

#include <ostream>

#include "ctl/explain/explain.h"

namespace ambit::ctl::explain {

void printText(const Explanation& explanation, std::ostream& out);
void printJson(const Explanation& explanation, std::ostream& out);

}  // namespace ambit::ctl::explain
