#include "control/translate/snapshot.h"

namespace ambit::control::translate {

xds::Snapshot snapshotOf(const Translation& translation) {
  xds::Snapshot out;
  xds::TypeResources& addresses = out.types[xds::kAddressType];
  for (const NamedAddress& a : translation.addresses) {
    addresses.emplace(a.name, xds::makeResource(a.name, a.address));
  }
  xds::TypeResources& authorizations = out.types[xds::kAuthorizationType];
  for (const NamedAuthorization& a : translation.authorizations) {
    authorizations.emplace(a.name, xds::makeResource(a.name, a.authorization));
  }
  return out;
}

xds::Snapshot buildSnapshot(const std::vector<config::Object>& objects, const Options& options) {
  return snapshotOf(translate(objects, options));
}

}  // namespace ambit::control::translate
