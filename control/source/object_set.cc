#include "control/source/object_set.h"

#include <algorithm>
#include <set>
#include <tuple>
#include <unordered_map>

#include <absl/strings/str_cat.h>

#include "core/config/analysis/analyze.h"
#include "core/config/codes.h"
#include "core/config/validate/validate.h"

namespace ambit::control::source {
namespace {

using config::Diagnostic;
using config::Object;
using config::Severity;

ObjectStatus statusOf(const config::ObjectRef& ref, const config::Origin& origin) {
  ObjectStatus status;
  status.object = ref;
  status.origin = origin;
  return status;
}

}  // namespace

std::string objectKey(const config::ObjectRef& ref) { return ref.display(); }

void ObjectSet::updateFile(const std::string& file, std::optional<config::LoadResult> loaded) {
  ++generation_;
  if (!loaded) {
    files_.erase(file);
    return;
  }
  std::unordered_map<std::string, Object> previous;
  if (auto it = files_.find(file); it != files_.end()) {
    for (Object& o : it->second.objects) previous.emplace(objectKey(o.ref()), std::move(o));
  }

  FileEntry entry;
  std::set<std::string> seen;
  bool unidentified = false;
  std::map<std::string, ObjectStatus> rejected;  // key -> status of objects that failed to load
  for (Diagnostic& d : loaded->diagnostics) {
    if (d.object.kind.empty() || d.object.name.empty()) {
      if (d.severity == Severity::kError) unidentified = true;
      ObjectStatus status = statusOf(d.object, d.origin);
      status.findings.push_back(std::move(d));
      entry.statuses.push_back(std::move(status));
      continue;
    }
    const std::string key = objectKey(d.object);
    auto [it, inserted] = rejected.emplace(key, statusOf(d.object, d.origin));
    it->second.findings.push_back(std::move(d));
  }

  for (Object& o : loaded->objects) {
    ObjectStatus status = statusOf(o.ref(), o.origin);
    status.accepted = config::validate::validateInto(o, status.findings);
    const std::string key = objectKey(o.ref());
    seen.insert(key);
    if (status.accepted) {
      entry.objects.push_back(std::move(o));
    } else if (auto prev = previous.find(key); prev != previous.end()) {
      status.previous_in_force = true;
      entry.objects.push_back(std::move(prev->second));
    }
    entry.statuses.push_back(std::move(status));
  }
  for (auto& [key, status] : rejected) {
    seen.insert(key);
    if (auto prev = previous.find(key); prev != previous.end()) {
      status.previous_in_force = true;
      entry.objects.push_back(std::move(prev->second));
    }
    entry.statuses.push_back(std::move(status));
  }
  // A document that could not be identified may be any object the file had before: keep those
  // in force until the file parses again.
  if (unidentified) {
    for (auto& [key, o] : previous) {
      if (seen.count(key) > 0 || o.body == nullptr) continue;
      ObjectStatus status = statusOf(o.ref(), o.origin);
      status.accepted = false;
      status.previous_in_force = true;
      Diagnostic d;
      d.code = config::codes::kYamlSyntax;
      d.severity = Severity::kError;
      d.object = o.ref();
      d.origin = o.origin;
      d.message = "its file no longer parses; the previous version stays in force";
      status.findings.push_back(std::move(d));
      entry.statuses.push_back(std::move(status));
      entry.objects.push_back(std::move(o));
    }
  }
  files_[file] = std::move(entry);
}

std::vector<std::string> ObjectSet::files() const {
  std::vector<std::string> out;
  for (const auto& [file, entry] : files_) out.push_back(file);
  return out;
}

ConfigStatePtr ObjectSet::state() {
  auto state = std::make_shared<ConfigState>();
  state->generation = generation_;
  std::map<std::string, std::string> owner;  // key -> file that defines it
  for (const auto& [file, entry] : files_) {
    for (const ObjectStatus& status : entry.statuses) state->statuses.push_back(status);
    for (const Object& o : entry.objects) {
      const std::string key = objectKey(o.ref());
      auto [it, inserted] = owner.emplace(key, file);
      if (inserted) {
        state->objects.push_back(o);
        continue;
      }
      ObjectStatus status = statusOf(o.ref(), o.origin);
      Diagnostic d;
      d.code = config::codes::kDuplicateObject;
      d.severity = Severity::kError;
      d.object = o.ref();
      d.origin = o.origin;
      d.message = absl::StrCat("is defined twice; the definition in ", it->second, " is in force");
      status.findings.push_back(std::move(d));
      state->statuses.push_back(std::move(status));
    }
  }
  // Findings across objects (missing subsets, policies without a waypoint...) are informative:
  // the objects stay in force, and the findings are shown with their status.
  std::map<std::string, ObjectStatus*> byKey;
  for (ObjectStatus& s : state->statuses) {
    if (s.accepted || s.previous_in_force) byKey.emplace(objectKey(s.object), &s);
  }
  for (Diagnostic& d : config::analysis::analyze(state->objects)) {
    if (d.code == std::string(config::codes::kDuplicateObject)) continue;  // handled above
    if (auto it = byKey.find(objectKey(d.object)); it != byKey.end()) {
      it->second->findings.push_back(std::move(d));
    }
  }
  std::sort(state->objects.begin(), state->objects.end(), [](const Object& a, const Object& b) {
    return std::make_tuple(a.kind->kind, a.namespace_(), a.name()) <
           std::make_tuple(b.kind->kind, b.namespace_(), b.name());
  });
  return state;
}

}  // namespace ambit::control::source
