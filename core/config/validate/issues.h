// What a validator found in one object: field paths relative to the object
// ("spec.http[0].route[1].weight") with a message each.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/config/diagnostic.h"

namespace ambit::config::validate {

struct Issue {
  Severity severity;
  std::string path;
  std::string message;
};

class Issues {
 public:
  void error(std::string path, std::string message) {
    items_.push_back({Severity::kError, std::move(path), std::move(message)});
  }
  void warning(std::string path, std::string message) {
    items_.push_back({Severity::kWarning, std::move(path), std::move(message)});
  }
  const std::vector<Issue>& items() const { return items_; }
  bool hasErrors() const {
    for (const Issue& i : items_) {
      if (i.severity == Severity::kError) return true;
    }
    return false;
  }

 private:
  std::vector<Issue> items_;
};

}  // namespace ambit::config::validate
