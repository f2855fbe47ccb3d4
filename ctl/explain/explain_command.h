// `ambitctl x explain`: loads Istio and Kubernetes YAML and explains, offline, what one HTTP
// request meets: its Service, whether a waypoint carries it, each route and why it matched or not,
// and the decision with its destinations, traffic policy and endpoints. Exit 0 when explained, 1
// when the input has errors or the URL names no Service, 2 on usage errors.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace ambit::ctl {

// Runs the command with its arguments (after the words "x explain").
int runExplain(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace ambit::ctl
