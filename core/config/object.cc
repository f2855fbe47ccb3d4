#include "core/config/object.h"

namespace ambit::config {

ObjectRef Object::ref() const {
  return ObjectRef{kind == nullptr ? "" : kind->displayName(), namespace_(), name()};
}

Origin Object::originOf(const std::string& path) const {
  std::string p = path;
  while (!p.empty()) {
    if (auto it = lines.find(p); it != lines.end()) return Origin{origin.file, it->second};
    const size_t cut = p.find_last_of(".[");
    if (cut == std::string::npos) break;
    p.resize(cut);
  }
  return origin;
}

}  // namespace ambit::config
