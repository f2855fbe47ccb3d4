// A per-thread memo of the tokens a waypoint worker has seen: each token's parse (header, payload,
// claims) and the key sets its signature was verified with. Parsing and ECDSA or RSA verification
// are most of a JWT check and give the same answer for the same token and keys, so a client that
// sends its token with every request pays for them once. What depends on the request or the time
// is never cached: the claims (exp, nbf, audiences) are checked on every use, and a key set
// counts only while the entry holds that same set (a rotated set is a new object, so the token is
// verified again). Entries hold their key sets, so an address cannot be reused for another set
// while an entry names it. Bounded: when full it starts over.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <absl/status/statusor.h>

#include "waypoint/jwt/jwks.h"
#include "waypoint/jwt/jwt.h"

namespace ambit::waypoint {

class TokenCache {
 public:
  struct Entry {
    absl::StatusOr<std::shared_ptr<const ParsedJwt>> parsed = absl::UnknownError("not parsed");
    size_t max_token_bytes = 0;  // the limit it was parsed under
    // Key sets that verified the signature (a few at most).
    std::vector<std::shared_ptr<const Jwks>> verified_with;

    bool verifiedWith(const std::shared_ptr<const Jwks>& keys) const;
    void addVerified(std::shared_ptr<const Jwks> keys);
  };

  explicit TokenCache(size_t capacity = kDefaultCapacity) : capacity_(capacity) {}

  // The entry for `token`, parsed under `max_token_bytes` on a miss. The reference is valid until
  // the next lookup.
  Entry& lookup(std::string_view token, size_t max_token_bytes);
  size_t size() const { return entries_.size(); }

  // The calling thread's cache (each waypoint worker is one thread).
  static TokenCache& forThisThread();

  static constexpr size_t kDefaultCapacity = 512;

 private:
  const size_t capacity_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace ambit::waypoint
