#include "core/tls/grpc_credentials.h"

#include <openssl/err.h>

#include "core/tls/openssl_util.h"

namespace ambit::tls {

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> serverCredentials(
    const std::string& cert_chain_pem, const std::string& key_pem, const std::string& root_pem) {
  AMBIT_ASSIGN_OR_RETURN(std::vector<X509Ptr> chain,
                         parseCertsPem(cert_chain_pem, "serving certificate chain"));
  AMBIT_ASSIGN_OR_RETURN(EvpPkeyPtr key, parsePrivateKeyPem(key_pem, "serving key"));
  AMBIT_ASSIGN_OR_RETURN(std::vector<X509Ptr> roots, parseCertsPem(root_pem, "root"));
  if (X509_check_private_key(chain.front().get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("serving key does not match the serving certificate");
  }
  AMBIT_RETURN_IF_ERROR(
      verifyChain(chain.front().get(), chain, roots, "serving certificate").status());

  grpc::SslServerCredentialsOptions options(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  options.pem_key_cert_pairs.push_back({key_pem, cert_chain_pem});
  options.pem_root_certs = root_pem;
  std::shared_ptr<grpc::ServerCredentials> creds = grpc::SslServerCredentials(options);
  if (creds == nullptr) return absl::InternalError("gRPC refused the server TLS credentials");
  return creds;
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> clientCredentials(
    const std::string& root_pem) {
  // gRPC would fall back to the system's roots on an empty string: refuse that here.
  AMBIT_RETURN_IF_ERROR(parseCertsPem(root_pem, "root").status());
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = root_pem;
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::SslCredentials(options);
  if (creds == nullptr) return absl::InternalError("gRPC refused the client TLS credentials");
  return creds;
}

std::shared_ptr<grpc::ChannelCredentials> withBearerToken(
    const std::shared_ptr<grpc::ChannelCredentials>& channel, const std::string& token) {
  return grpc::CompositeChannelCredentials(channel, grpc::AccessTokenCredentials(token));
}

}  // namespace ambit::tls
