// The objects contributed by each file of a source, updated one file at a time: an invalid object
// is rejected alone and the last good version of it stays in force.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "control/source/config_state.h"
#include "core/config/loader.h"

namespace ambit::control::source {

class ObjectSet {
 public:
  // Replaces what `file` contributed with `loaded` (the result of loading it again), or removes
  // it when `loaded` is nullopt (the file is gone).
  void updateFile(const std::string& file, std::optional<config::LoadResult> loaded);

  // The state in force: objects of every file (the first definition of a name wins, later ones
  // are rejected as duplicates), with statuses and analysis findings.
  ConfigStatePtr state();

  std::vector<std::string> files() const;

 private:
  struct FileEntry {
    std::vector<config::Object> objects;  // in force from this file
    std::vector<ObjectStatus> statuses;
  };

  std::map<std::string, FileEntry> files_;
  uint64_t generation_ = 0;
};

// "Kind namespace/name": the identity of an object within a source.
std::string objectKey(const config::ObjectRef& ref);

}  // namespace ambit::control::source
