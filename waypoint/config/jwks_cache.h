// The JSON Web Key Sets that RequestAuthentication rules name by `jwksUri`, fetched by the
// waypoint itself over HTTP or HTTPS (verified against the system's trusted roots), refreshed
// periodically, and published as one immutable JwksSet that requests read without a lock.
// A URI whose keys were never fetched is absent from the set, so tokens of its issuer are refused
// (fail closed); a failed refresh keeps the last good keys and retries with backoff.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "core/metrics/registry.h"
#include "core/published.h"
#include "core/status.h"
#include "waypoint/jwt/request_authn.h"

namespace ambit::waypoint {

// The key sets known at one moment, by URI.
class JwksSet final : public JwksLookup {
 public:
  JwksSet() = default;
  explicit JwksSet(std::map<std::string, std::shared_ptr<const Jwks>, std::less<>> keys)
      : keys_(std::move(keys)) {}
  const Jwks* find(std::string_view uri) const override;
  std::shared_ptr<const Jwks> findShared(std::string_view uri) const override;
  const std::map<std::string, std::shared_ptr<const Jwks>, std::less<>>& keys() const {
    return keys_;
  }

 private:
  std::map<std::string, std::shared_ptr<const Jwks>, std::less<>> keys_;
};

// A jwksUri split for fetching: only http and https, an explicit or default port, a path.
struct JwksUri {
  bool tls = false;
  std::string host;
  uint16_t port = 0;
  std::string target;  // path and query, "/" when the URI has none
};
absl::StatusOr<JwksUri> parseJwksUri(std::string_view uri);

struct JwksCacheOptions {
  std::chrono::milliseconds refresh{std::chrono::minutes(20)};    // Istio's default refresh
  std::chrono::milliseconds first_retry{500};                     // backoff after a failure,
  std::chrono::milliseconds max_retry{std::chrono::seconds(30)};  // doubling up to this
  std::chrono::milliseconds timeout{std::chrono::seconds(5)};     // per fetch, connect to body
  size_t max_body_bytes = 256 * 1024;
};

class JwksCache {
 public:
  // `on_change` runs on the cache's thread after each change of the published set.
  // Fetch outcomes are counted in `registry` (may be null).
  JwksCache(JwksCacheOptions options, std::function<void()> on_change,
            metrics::Registry* registry = nullptr);
  ~JwksCache();
  JwksCache(const JwksCache&) = delete;
  JwksCache& operator=(const JwksCache&) = delete;

  // The URIs the config names now: new ones are fetched at once, others are forgotten.
  void setUris(const std::set<std::string>& uris);

  std::shared_ptr<const JwksSet> current() const { return current_.get(); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Published<JwksSet> current_{std::make_shared<const JwksSet>()};
};

}  // namespace ambit::waypoint
