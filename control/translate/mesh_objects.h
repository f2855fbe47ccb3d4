// The objects translation reads, grouped by kind and indexed by namespace and name. Built once
// per translation over an immutable object set; it borrows the objects, which must outlive it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <google/protobuf/map.h>

#include "core/config/object.h"
#include "k8s/apps.pb.h"
#include "k8s/core.pb.h"
#include "k8s/gateway.pb.h"

namespace ambit::control::translate {

using Labels = google::protobuf::Map<std::string, std::string>;

// True when every label of `selector` is in `labels` (an empty selector matches everything).
bool selectorMatches(const Labels& selector, const Labels& labels);

// The value of label `key`, or nullptr when it is absent.
const std::string* findLabel(const Labels& labels, const std::string& key);

// Go's strconv.ParseBool, which istiod uses for boolean labels and annotations: 1, t, T, TRUE,
// true, True, 0, f, F, FALSE, false, False; nullopt otherwise.
std::optional<bool> parseGoBool(const std::string& text);

class MeshObjects {
 public:
  explicit MeshObjects(const std::vector<config::Object>& objects);

  // Objects of one kind in input order, the first of duplicates only.
  const std::vector<const config::Object*>& ofKind(config::Kind kind) const;

  // Objects of one kind in one namespace, in input order.
  const std::vector<const config::Object*>& ofKindIn(config::Kind kind,
                                                     const std::string& namespace_) const;

  const config::Object* find(config::Kind kind, const std::string& namespace_,
                             const std::string& name) const;

  // The labels of a namespace; empty when the set has no such Namespace.
  const Labels& namespaceLabels(const std::string& name) const;

  // Later objects with the kind, namespace and name of an earlier one; they are ignored.
  const std::vector<const config::Object*>& duplicates() const { return duplicates_; }

 private:
  std::map<config::Kind, std::vector<const config::Object*>> by_kind_;
  std::map<std::pair<config::Kind, std::string>, std::vector<const config::Object*>> by_namespace_;
  std::map<std::tuple<config::Kind, std::string, std::string>, const config::Object*> by_name_;
  std::vector<const config::Object*> duplicates_;
  Labels empty_;
};

}  // namespace ambit::control::translate
