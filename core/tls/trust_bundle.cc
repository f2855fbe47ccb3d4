#include "core/tls/trust_bundle.h"

namespace ambit::tls {

absl::StatusOr<TrustBundle> TrustBundle::fromPem(const std::string& pem) {
  TrustBundle bundle;
  AMBIT_ASSIGN_OR_RETURN(bundle.roots_, parseCertsPem(pem, "trust bundle"));
  for (size_t i = 0; i < bundle.roots_.size(); ++i) {
    if ((X509_get_extension_flags(bundle.roots_[i].get()) & EXFLAG_CA) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("trust bundle: certificate ", i + 1, " is not a CA certificate"));
    }
  }
  bundle.pem_ = pem;
  bundle.store_.reset(X509_STORE_new());
  if (!bundle.store_) return absl::InternalError("X509_STORE_new failed");
  AMBIT_RETURN_IF_ERROR(bundle.addTo(bundle.store_.get()));
  return bundle;
}

absl::Status TrustBundle::addTo(X509_STORE* store) const {
  for (const X509Ptr& root : roots_) {
    if (X509_STORE_add_cert(store, root.get()) != 1) {
      return absl::InternalError(absl::StrCat("add trust anchor: ", opensslErrors()));
    }
  }
  return absl::OkStatus();
}

}  // namespace ambit::tls
