// Authenticates control-plane callers by bearer tokens listed in a file: each token names a node
// (whose agent is calling) or a waypoint identity. The file can be reloaded while serving.
#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "control/auth/caller.h"

namespace ambit::control::auth {

// File format, one entry per line:
//   <token> node <node-name>
//   <token> waypoint <spiffe-id>
// Blank lines and lines starting with '#' are ignored. Tokens are at least 16 characters.
class TokenFileAuthenticator final : public Authenticator {
 public:
  static constexpr size_t kMinTokenLength = 16;
  static constexpr size_t kMaxFileBytes = 1 << 20;

  static absl::StatusOr<std::unique_ptr<TokenFileAuthenticator>> create(std::string path);

  absl::StatusOr<Caller> authenticate(const std::string& authorization) const override;

  // Reads the file again. On error the tokens in force stay as they were and the error is returned,
  // so a half-edited file never locks every caller out.
  absl::Status reload();

  size_t tokenCount() const;

 private:
  using Digest = std::array<unsigned char, 32>;  // SHA-256 of a token
  struct Entry {
    Digest digest;
    Caller caller;
  };
  using Table = std::vector<Entry>;

  explicit TokenFileAuthenticator(std::string path) : path_(std::move(path)) {}
  static absl::StatusOr<std::shared_ptr<const Table>> readTable(const std::string& path);

  const std::string path_;
  mutable std::mutex mu_;
  std::shared_ptr<const Table> table_;  // guarded by mu_; the table itself is immutable
};

}  // namespace ambit::control::auth
