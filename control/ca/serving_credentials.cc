#include "control/ca/serving_credentials.h"

#include "core/tls/grpc_credentials.h"

namespace ambit::control::ca {

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> serverCredentials(
    const ServingCertificate& serving, const std::string& root_pem) {
  return tls::serverCredentials(serving.cert_chain_pem, serving.key_pem, root_pem);
}

}  // namespace ambit::control::ca
