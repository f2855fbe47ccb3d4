#include "agent/state/snapshot_store.h"

namespace ambit::agent {

std::shared_ptr<const Snapshot> SnapshotStore::current() const { return current_.get(); }

void SnapshotStore::replaceAddresses(const Addresses& addresses) {
  std::lock_guard lock(update_mu_);
  addresses_ = addresses;
  have_addresses_ = true;
  publish();
}

void SnapshotStore::replacePolicies(const Policies& policies) {
  std::lock_guard lock(update_mu_);
  policies_ = policies;
  publish();
}

void SnapshotStore::publish() {
  std::shared_ptr<const Snapshot> next =
      Snapshot::build(addresses_, policies_, have_addresses_ ? ++version_ : 0);
  current_.publish(next);
  for (const auto& notify : subscribers_) notify(next);
}

void SnapshotStore::subscribe(
    std::function<void(const std::shared_ptr<const Snapshot>&)> on_change) {
  std::lock_guard lock(update_mu_);
  subscribers_.push_back(std::move(on_change));
}

}  // namespace ambit::agent
