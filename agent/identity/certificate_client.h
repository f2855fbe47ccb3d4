// How the agent asks the mesh CA for a pod's certificate: an interface the certificate manager
// calls (so tests can sign with a CA of their own), and its implementation over gRPC, Istio's
// IstioCertificateService/CreateCertificate on the control plane.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/security/credentials.h>

#include "core/status.h"
#include "istio/v1/auth/ca.grpc.pb.h"

namespace ambit::agent {

class CertificateClient {
 public:
  virtual ~CertificateClient() = default;

  // Signs `csr_pem` for `identity` (a SPIFFE ID) with a lifetime of `ttl`. Returns PEMs, the leaf
  // first and the root last. Errors keep the CA's status code; PERMISSION_DENIED means the CA
  // refuses this identity to this node.
  virtual absl::StatusOr<std::vector<std::string>> createCertificate(const std::string& csr_pem,
                                                                     const std::string& identity,
                                                                     std::chrono::seconds ttl) = 0;

  // Ends calls in flight and refuses later ones with CANCELLED, so that whoever owns the client
  // can stop without waiting out a call's deadline.
  virtual void shutdown() {}
};

class GrpcCertificateClient final : public CertificateClient {
 public:
  // Istio's metadata key naming the identity a node agent asks for on a pod's behalf.
  static constexpr const char* kImpersonatedIdentity = "ImpersonatedIdentity";
  static constexpr std::chrono::seconds kDefaultDeadline{10};

  // `channel`'s credentials carry the agent's bearer token and trust only the mesh root.
  explicit GrpcCertificateClient(std::shared_ptr<grpc::Channel> channel,
                                 std::chrono::milliseconds deadline = kDefaultDeadline);

  // A channel to the control plane at `target`, expecting `server_name` in its certificate (empty
  // keeps the target's host), as the agent's xDS client connects.
  static std::shared_ptr<grpc::Channel> makeChannel(
      const std::string& target, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
      const std::string& server_name);

  // Errors are "certificate for <identity>: <the CA's message>" with the gRPC code.
  absl::StatusOr<std::vector<std::string>> createCertificate(const std::string& csr_pem,
                                                             const std::string& identity,
                                                             std::chrono::seconds ttl) override;
  void shutdown() override;

 private:
  std::unique_ptr<istio::v1::auth::IstioCertificateService::Stub> stub_;
  const std::chrono::milliseconds deadline_;
  std::mutex mu_;
  bool shut_down_ = false;                    // guarded by mu_
  std::set<grpc::ClientContext*> in_flight_;  // guarded by mu_
};

}  // namespace ambit::agent
