#include "control/translate/mesh_objects.h"

namespace ambit::control::translate {

bool selectorMatches(const Labels& selector, const Labels& labels) {
  for (const auto& [key, value] : selector) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  return true;
}

const std::string* findLabel(const Labels& labels, const std::string& key) {
  auto it = labels.find(key);
  return it == labels.end() ? nullptr : &it->second;
}

std::optional<bool> parseGoBool(const std::string& text) {
  for (const char* t : {"1", "t", "T", "TRUE", "true", "True"}) {
    if (text == t) return true;
  }
  for (const char* f : {"0", "f", "F", "FALSE", "false", "False"}) {
    if (text == f) return false;
  }
  return std::nullopt;
}

MeshObjects::MeshObjects(const std::vector<config::Object>& objects) {
  for (const config::Object& o : objects) {
    if (o.kind == nullptr) continue;
    const auto key = std::make_tuple(o.kind->kind, o.namespace_(), o.name());
    if (!by_name_.emplace(key, &o).second) {
      duplicates_.push_back(&o);
      continue;
    }
    by_kind_[o.kind->kind].push_back(&o);
    by_namespace_[{o.kind->kind, o.namespace_()}].push_back(&o);
  }
}

const std::vector<const config::Object*>& MeshObjects::ofKind(config::Kind kind) const {
  static const std::vector<const config::Object*> kNone;
  auto it = by_kind_.find(kind);
  return it == by_kind_.end() ? kNone : it->second;
}

const std::vector<const config::Object*>& MeshObjects::ofKindIn(
    config::Kind kind, const std::string& namespace_) const {
  static const std::vector<const config::Object*> kNone;
  auto it = by_namespace_.find({kind, namespace_});
  return it == by_namespace_.end() ? kNone : it->second;
}

const config::Object* MeshObjects::find(config::Kind kind, const std::string& namespace_,
                                        const std::string& name) const {
  auto it = by_name_.find(std::make_tuple(kind, namespace_, name));
  return it == by_name_.end() ? nullptr : it->second;
}

const Labels& MeshObjects::namespaceLabels(const std::string& name) const {
  // Namespaces are cluster-scoped: the loader leaves their namespace empty.
  const config::Object* ns = find(config::Kind::kNamespace, "", name);
  return ns == nullptr ? empty_ : ns->meta.labels();
}

}  // namespace ambit::control::translate
