// Translation of Kubernetes objects and Istio config to what node agents consume: Address
// resources (Workloads and Services) and L4 Authorization resources, named as istiod names them.
// A pure function of the object set and the options.
#pragma once

#include <string>
#include <vector>

#include "control/translate/note.h"
#include "control/translate/options.h"
#include "core/config/object.h"
#include "istio/security/authorization.pb.h"
#include "istio/workload/workload.pb.h"

namespace ambit::control::translate {

struct NamedAddress {
  std::string name;  // a workload's uid, or "<namespace>/<hostname>" for a service
  istio::workload::Address address;
};

struct NamedAuthorization {
  std::string name;  // "<namespace>/<name>"
  istio::security::Authorization authorization;
};

struct Translation {
  std::vector<NamedAddress> addresses;             // sorted by name
  std::vector<NamedAuthorization> authorizations;  // sorted by name
  std::vector<Note> notes;                         // sorted
};

// Translates a validated object set. Objects of kinds that do not feed node agents are ignored;
// of duplicates (same kind, namespace and name) the first is used.
Translation translate(const std::vector<config::Object>& objects, const Options& options = {});

// istiod's resource names.
std::string addressName(const istio::workload::Address& address);
std::string authorizationName(const istio::security::Authorization& authorization);

}  // namespace ambit::control::translate
