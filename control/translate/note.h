// What translation decided about an object beyond its output: a policy narrowed because the node
// agent cannot see HTTP, a waypoint that could not be used, an object skipped. Reasons are
// istiod's status reasons where istiod has one.
#pragma once

#include <string>
#include <tuple>
#include <vector>

#include "core/config/diagnostic.h"
#include "core/config/object.h"

namespace ambit::control::translate {

struct Note {
  config::ObjectRef object;
  std::string reason;  // e.g. "UnsupportedValue", "WaypointIsNotReady"
  std::string message;

  // "AuthorizationPolicy ns/name: UnsupportedValue: message"
  std::string format() const;
  friend bool operator<(const Note& a, const Note& b) {
    return std::tie(a.object.kind, a.object.namespace_, a.object.name, a.reason, a.message) <
           std::tie(b.object.kind, b.object.namespace_, b.object.name, b.reason, b.message);
  }
};

inline void addNote(std::vector<Note>& notes, const config::Object& object, std::string reason,
                    std::string message) {
  notes.push_back(Note{object.ref(), std::move(reason), std::move(message)});
}

}  // namespace ambit::control::translate
