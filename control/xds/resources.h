// The resources the control plane serves over Delta ADS: per type URL, immutable resources by
// name, each with a content version. A Snapshot is shared read-only between the server's streams.
#pragma once

#include <map>
#include <memory>
#include <string>

#include <google/protobuf/any.pb.h>
#include <google/protobuf/message.h>

namespace ambit::control::xds {

inline constexpr const char* kAddressType = "type.googleapis.com/istio.workload.Address";
inline constexpr const char* kAuthorizationType =
    "type.googleapis.com/istio.security.Authorization";

struct Resource {
  std::string name;
  std::string version;  // hash of the serialized body: equal content, equal version
  google::protobuf::Any body;
};

using ResourcePtr = std::shared_ptr<const Resource>;
using TypeResources = std::map<std::string, ResourcePtr>;  // name -> resource

struct Snapshot {
  std::map<std::string, TypeResources> types;  // type URL -> resources
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

// Packs `body` into a resource named `name`, with a version derived from its deterministic
// serialization.
ResourcePtr makeResource(std::string name, const google::protobuf::Message& body);

}  // namespace ambit::control::xds
