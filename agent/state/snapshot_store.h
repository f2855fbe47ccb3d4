// Holds the current Snapshot and tells subscribers when it changes. Readers take the pointer and
// keep an immutable view; updates build a new Snapshot outside the readers' way and swap it in.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "agent/state/snapshot.h"
#include "core/published.h"

namespace ambit::agent {

class SnapshotStore {
 public:
  using Addresses = Snapshot::Addresses;
  using Policies = Snapshot::Policies;

  // Takes no lock while the snapshot is unchanged since this thread's last call: one atomic load
  // and a compare, so every connection may call it.
  std::shared_ptr<const Snapshot> current() const;

  // Replace every address, or every policy; subscribers run on the caller's thread after the
  // swap, in the order of the updates. Until the first addresses arrive, snapshots keep version 0
  // (no config).
  void replaceAddresses(const Addresses& addresses);
  void replacePolicies(const Policies& policies);

  // `on_change` must be cheap and must not call replaceAddresses or replacePolicies.
  void subscribe(std::function<void(const std::shared_ptr<const Snapshot>&)> on_change);

 private:
  void publish();  // with update_mu_ held

  // Writers: one update at a time; the build of the next snapshot happens under this lock only,
  // never under the readers' one.
  std::mutex update_mu_;
  Addresses addresses_;
  Policies policies_;
  bool have_addresses_ = false;
  uint64_t version_ = 0;
  std::vector<std::function<void(const std::shared_ptr<const Snapshot>&)>> subscribers_;

  Published<Snapshot> current_{Snapshot::empty()};  // what readers see
};

}  // namespace ambit::agent
