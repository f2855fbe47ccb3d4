// Holds the current Snapshot and tells subscribers when it changes. Readers take the pointer and
// keep an immutable view; updates build a new Snapshot and swap it in.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/state/snapshot.h"

namespace ambit::agent {

class SnapshotStore {
 public:
  using Addresses = Snapshot::Addresses;
  using Policies = Snapshot::Policies;

  std::shared_ptr<const Snapshot> current() const;

  // Replace every address, or every policy; subscribers run on the caller's thread after the
  // swap. Until the first addresses arrive, snapshots keep version 0 (no config).
  void replaceAddresses(const Addresses& addresses);
  void replacePolicies(const Policies& policies);

  // `on_change` must be cheap and must not call replaceAddresses.
  void subscribe(std::function<void(const std::shared_ptr<const Snapshot>&)> on_change);

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Snapshot> current_ = Snapshot::empty();
  void publish(std::unique_lock<std::mutex> lock);

  Addresses addresses_;
  Policies policies_;
  bool have_addresses_ = false;
  uint64_t version_ = 0;
  std::vector<std::function<void(const std::shared_ptr<const Snapshot>&)>> subscribers_;
};

}  // namespace ambit::agent
