#include "agent/state/snapshot_store.h"

namespace ambit::agent {

std::shared_ptr<const Snapshot> SnapshotStore::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

void SnapshotStore::replaceAddresses(const Addresses& addresses) {
  std::shared_ptr<const Snapshot> next;
  std::vector<std::function<void(const std::shared_ptr<const Snapshot>&)>> subscribers;
  {
    std::lock_guard lock(mu_);
    next = Snapshot::build(addresses, ++version_);
    current_ = next;
    subscribers = subscribers_;
  }
  for (const auto& notify : subscribers) notify(next);
}

void SnapshotStore::subscribe(
    std::function<void(const std::shared_ptr<const Snapshot>&)> on_change) {
  std::lock_guard lock(mu_);
  subscribers_.push_back(std::move(on_change));
}

}  // namespace ambit::agent
