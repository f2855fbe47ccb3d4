// The mesh's trust anchors: the root certificates a peer's chain must lead to, parsed once and kept
// in one X509_STORE for verifications outside a handshake.
#pragma once

#include <string>
#include <vector>

#include "core/tls/openssl_util.h"

namespace ambit::tls {

class TrustBundle {
 public:
  // One or more PEM certificates, each a CA (basicConstraints CA:TRUE): a bundle holding a leaf
  // would let that leaf vouch for itself. Errors are InvalidArgumentError.
  static absl::StatusOr<TrustBundle> fromPem(const std::string& pem);

  const std::vector<X509Ptr>& roots() const { return roots_; }
  const std::string& pem() const { return pem_; }
  // Owned by the bundle. OpenSSL locks the store internally, so concurrent verifications may share
  // it.
  X509_STORE* store() const { return store_.get(); }
  // Adds every root to `store` (for example an SSL_CTX's), which takes its own references.
  absl::Status addTo(X509_STORE* store) const;

 private:
  TrustBundle() = default;

  std::vector<X509Ptr> roots_;
  std::string pem_;
  X509StorePtr store_;
};

}  // namespace ambit::tls
