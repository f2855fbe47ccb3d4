// The embedded default source: a directory tree of YAML files, watched with inotify. Changes are
// applied file by file after a short settle time, so an editor's save or a `cp -r` is one update.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "control/source/config_source.h"
#include "control/source/object_set.h"

namespace ambit::control::source {

class DirectorySource : public ConfigSource {
 public:
  struct Options {
    std::string root;
    // Quiet time after the last event before changes are applied.
    std::chrono::milliseconds settle{50};
  };

  static absl::StatusOr<std::unique_ptr<DirectorySource>> create(Options options);
  ~DirectorySource() override;

  absl::Status start(Listener listener) override;
  void stop() override;

 private:
  DirectorySource(Options options, int inotify_fd, int stop_fd);

  void run();
  void watchTree(const std::string& dir, std::set<std::string>& files_found);
  void applyChanges(const std::set<std::string>& paths);
  void rescan();
  void publish();
  void reloadFile(const std::string& file);

  Options options_;
  int inotify_fd_;
  int stop_fd_;
  Listener listener_;
  std::map<int, std::string> watches_;  // watch descriptor -> directory
  ObjectSet objects_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
};

}  // namespace ambit::control::source
