#include "waypoint/jwt/token_cache.h"

#include <algorithm>

namespace ambit::waypoint {
namespace {

constexpr size_t kMaxKeySetsPerToken = 4;

}  // namespace

bool TokenCache::Entry::verifiedWith(const std::shared_ptr<const Jwks>& keys) const {
  return std::find(verified_with.begin(), verified_with.end(), keys) != verified_with.end();
}

void TokenCache::Entry::addVerified(std::shared_ptr<const Jwks> keys) {
  if (verified_with.size() >= kMaxKeySetsPerToken) verified_with.erase(verified_with.begin());
  verified_with.push_back(std::move(keys));
}

TokenCache::Entry& TokenCache::lookup(std::string_view token, size_t max_token_bytes) {
  auto it = entries_.find(std::string(token));
  if (it != entries_.end() && it->second.max_token_bytes == max_token_bytes) return it->second;
  if (it == entries_.end() && entries_.size() >= capacity_) entries_.clear();
  Entry& entry = entries_[std::string(token)];
  entry = Entry{};
  entry.max_token_bytes = max_token_bytes;
  absl::StatusOr<ParsedJwt> parsed = parseJwt(token, max_token_bytes);
  if (parsed.ok()) {
    entry.parsed = std::make_shared<const ParsedJwt>(*std::move(parsed));
  } else {
    entry.parsed = parsed.status();
  }
  return entry;
}

TokenCache& TokenCache::forThisThread() {
  thread_local TokenCache cache;
  return cache;
}

}  // namespace ambit::waypoint
