#include "agent/state/snapshot_store.h"

namespace ambit::agent {

std::shared_ptr<const Snapshot> SnapshotStore::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

void SnapshotStore::replaceAddresses(const Addresses& addresses) {
  std::unique_lock lock(mu_);
  addresses_ = addresses;
  have_addresses_ = true;
  publish(std::move(lock));
}

void SnapshotStore::replacePolicies(const Policies& policies) {
  std::unique_lock lock(mu_);
  policies_ = policies;
  publish(std::move(lock));
}

void SnapshotStore::publish(std::unique_lock<std::mutex> lock) {
  std::shared_ptr<const Snapshot> next =
      Snapshot::build(addresses_, policies_, have_addresses_ ? ++version_ : 0);
  current_ = next;
  auto subscribers = subscribers_;
  lock.unlock();
  for (const auto& notify : subscribers) notify(next);
}

void SnapshotStore::subscribe(
    std::function<void(const std::shared_ptr<const Snapshot>&)> on_change) {
  std::lock_guard lock(mu_);
  subscribers_.push_back(std::move(on_change));
}

}  // namespace ambit::agent
