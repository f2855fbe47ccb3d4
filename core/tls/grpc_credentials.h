// gRPC transport security between the control plane and its clients: server-side TLS with a
// serving certificate (callers authenticate with bearer tokens, not client certificates), and
// client credentials that trust only the mesh root.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include "core/status.h"

namespace ambit::tls {

// Checks that the key matches the first certificate of `cert_chain_pem` and that the chain
// verifies against `root_pem`, so a misconfigured server fails at start rather than at handshake.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> serverCredentials(
    const std::string& cert_chain_pem, const std::string& key_pem, const std::string& root_pem);

// Trusts `root_pem` only; an empty or malformed root is an error, never a fallback to the
// system's roots.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> clientCredentials(
    const std::string& root_pem);

// Adds "authorization: Bearer <token>" to every call made over `channel`'s credentials.
std::shared_ptr<grpc::ChannelCredentials> withBearerToken(
    const std::shared_ptr<grpc::ChannelCredentials>& channel, const std::string& token);

}  // namespace ambit::tls
