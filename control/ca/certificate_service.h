// istio.v1.auth.IstioCertificateService on ambit-control: authenticates the caller, decides which
// SPIFFE ID it may obtain, and signs its CSR for that identity alone.
#pragma once

#include <string>
#include <vector>

#include "control/auth/caller.h"
#include "control/ca/ca_metrics.h"
#include "control/ca/identity_directory.h"
#include "control/ca/signer.h"
#include "istio/v1/auth/ca.grpc.pb.h"

namespace ambit::control::ca {

class CertificateService final : public istio::v1::auth::IstioCertificateService::Service {
 public:
  // Istio's metadata key naming the identity a node agent asks for on a pod's behalf.
  static constexpr const char* kImpersonatedIdentity = "ImpersonatedIdentity";

  // The references must outlive the service.
  CertificateService(const auth::Authenticator& authenticator, const IdentityDirectory& directory,
                     const CertificateSigner& signer, std::string trust_domain);

  grpc::Status CreateCertificate(grpc::ServerContext* context,
                                 const istio::v1::auth::IstioCertificateRequest* request,
                                 istio::v1::auth::IstioCertificateResponse* response) override;

  // The same without the transport: `authorization` is the request's header value, `peer` only
  // names the caller in logs. Errors carry the gRPC code to answer with.
  absl::StatusOr<std::vector<std::string>> createCertificate(
      const std::string& authorization, const istio::v1::auth::IstioCertificateRequest& request,
      const std::string& peer = "");

  const CaMetrics& metrics() const { return metrics_; }

 private:
  struct CallRecord {
    CaMetrics::Refusal reason = CaMetrics::Refusal::kInternal;  // meaningful on refusal only
    std::string caller;    // "node n1", "waypoint spiffe://..."; empty before authentication
    std::string identity;  // the identity asked for, once known
  };

  absl::StatusOr<std::vector<std::string>> issue(
      const std::string& authorization, const istio::v1::auth::IstioCertificateRequest& request,
      CallRecord& record) const;
  absl::StatusOr<std::string> requestedIdentity(
      const auth::Caller& caller, const Csr& csr,
      const istio::v1::auth::IstioCertificateRequest& request) const;
  absl::Status authorize(const auth::Caller& caller, const std::string& identity) const;

  const auth::Authenticator& authenticator_;
  const IdentityDirectory& directory_;
  const CertificateSigner& signer_;
  const std::string trust_domain_;
  CaMetrics metrics_;
};

}  // namespace ambit::control::ca
