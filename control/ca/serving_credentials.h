// gRPC server credentials from the serving certificate the CA issues to the control plane itself.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/security/server_credentials.h>

#include "control/ca/signer.h"

namespace ambit::control::ca {

// tls::serverCredentials over `serving`'s chain and key.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> serverCredentials(
    const ServingCertificate& serving, const std::string& root_pem);

}  // namespace ambit::control::ca
