#include "agent/identity/certificate_client.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/support/channel_arguments.h>

namespace ambit::agent {

using istio::v1::auth::IstioCertificateRequest;
using istio::v1::auth::IstioCertificateResponse;

GrpcCertificateClient::GrpcCertificateClient(std::shared_ptr<grpc::Channel> channel,
                                             std::chrono::milliseconds deadline)
    : stub_(istio::v1::auth::IstioCertificateService::NewStub(std::move(channel))),
      deadline_(deadline) {}

std::shared_ptr<grpc::Channel> GrpcCertificateClient::makeChannel(
    const std::string& target, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    const std::string& server_name) {
  grpc::ChannelArguments args;
  if (!server_name.empty()) args.SetSslTargetNameOverride(server_name);
  return grpc::CreateCustomChannel(target, credentials, args);
}

absl::StatusOr<std::vector<std::string>> GrpcCertificateClient::createCertificate(
    const std::string& csr_pem, const std::string& identity, std::chrono::seconds ttl) {
  const std::string prefix = absl::StrCat("certificate for ", identity, ": ");
  IstioCertificateRequest request;
  request.set_csr(csr_pem);
  request.set_validity_duration(ttl.count());
  // The CSR names the identity too; the CA checks that both agree.
  (*request.mutable_metadata()->mutable_fields())[kImpersonatedIdentity].set_string_value(identity);

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + deadline_);
  {
    std::lock_guard lock(mu_);
    if (shut_down_) return absl::CancelledError(absl::StrCat(prefix, "the agent is stopping"));
    in_flight_.insert(&context);
  }
  IstioCertificateResponse response;
  const grpc::Status status = stub_->CreateCertificate(&context, request, &response);
  {
    std::lock_guard lock(mu_);
    in_flight_.erase(&context);
  }
  if (!status.ok()) {
    // absl and gRPC share the canonical status codes, value for value.
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        absl::StrCat(prefix, status.error_message()));
  }
  if (response.cert_chain_size() == 0) {
    return absl::InternalError(absl::StrCat(prefix, "the CA answered with no certificate"));
  }
  return std::vector<std::string>(response.cert_chain().begin(), response.cert_chain().end());
}

void GrpcCertificateClient::shutdown() {
  std::lock_guard lock(mu_);
  shut_down_ = true;
  for (grpc::ClientContext* context : in_flight_) context->TryCancel();
}

}  // namespace ambit::agent
