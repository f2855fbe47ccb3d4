// `ambitctl x`: the experimental commands, whose output and options may still change.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace ambit::ctl {

// Runs the group with its arguments (after the word "x").
int runExperimental(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace ambit::ctl
