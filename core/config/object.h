// One loaded configuration object: its kind, metadata, typed body and where it came from.
#pragma once

#include <memory>
#include <string>

#include <google/protobuf/message.h>

#include "core/config/diagnostic.h"
#include "core/config/kinds.h"
#include "core/config/yaml_decoder.h"
#include "k8s/meta.pb.h"

namespace ambit::config {

struct Object {
  const KindInfo* kind = nullptr;
  std::string api_version;
  k8s::ObjectMeta meta;  // namespace defaulted to "default" for namespaced kinds
  // The typed spec (Istio kinds) or the whole object (Kubernetes kinds); never null.
  std::shared_ptr<const google::protobuf::Message> body;
  Origin origin;     // the document's first line
  FieldLines lines;  // field path -> line, for findings about a field

  const std::string& name() const { return meta.name(); }
  const std::string& namespace_() const { return meta.namespace_(); }
  ObjectRef ref() const;
  // Where a field path is written, falling back to its nearest written parent, then the document.
  Origin originOf(const std::string& path) const;

  // The body as its concrete message type; the caller knows it from `kind`.
  template <class T>
  const T& as() const {
    return static_cast<const T&>(*body);
  }
};

}  // namespace ambit::config
