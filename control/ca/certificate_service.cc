#include "control/ca/certificate_service.h"

#include <chrono>

#include "core/log.h"
#include "core/tls/spiffe_id.h"

namespace ambit::control::ca {
namespace {

using istio::v1::auth::IstioCertificateRequest;
using istio::v1::auth::IstioCertificateResponse;
using Reason = CaMetrics::Refusal;

std::string describe(const auth::Caller& caller) {
  return caller.kind == auth::Caller::Kind::kWaypoint ? absl::StrCat("waypoint ", caller.identity)
                                                      : absl::StrCat("node ", caller.node);
}

}  // namespace

CertificateService::CertificateService(const auth::Authenticator& authenticator,
                                       const IdentityDirectory& directory,
                                       const CertificateSigner& signer, std::string trust_domain)
    : authenticator_(authenticator),
      directory_(directory),
      signer_(signer),
      trust_domain_(std::move(trust_domain)) {}

grpc::Status CertificateService::CreateCertificate(grpc::ServerContext* context,
                                                   const IstioCertificateRequest* request,
                                                   IstioCertificateResponse* response) {
  std::string authorization;
  const auto& metadata = context->client_metadata();
  if (auto it = metadata.find("authorization"); it != metadata.end()) {
    authorization.assign(it->second.data(), it->second.size());
  }
  absl::StatusOr<std::vector<std::string>> chain =
      createCertificate(authorization, *request, context->peer());
  if (!chain.ok()) {
    // absl and gRPC share the canonical status codes, value for value.
    return grpc::Status(static_cast<grpc::StatusCode>(chain.status().code()),
                        std::string(chain.status().message()));
  }
  for (std::string& pem : *chain) response->add_cert_chain(std::move(pem));
  return grpc::Status::OK;
}

absl::StatusOr<std::vector<std::string>> CertificateService::createCertificate(
    const std::string& authorization, const IstioCertificateRequest& request,
    const std::string& peer) {
  CallRecord record;
  absl::StatusOr<std::vector<std::string>> chain = issue(authorization, request, record);
  const std::string from = peer.empty() ? "" : absl::StrCat(" (", peer, ")");
  const std::string who = record.caller.empty() ? "unauthenticated caller" : record.caller;
  if (chain.ok()) {
    metrics_.countSigned();
    log::get("ca")->debug("issued certificate for {} to {}{}", record.identity, who, from);
    return chain;
  }
  metrics_.countRefusal(record.reason);
  log::get("ca")->warn("refused certificate{} to {}{}: {} [{}]",
                       record.identity.empty() ? "" : " for " + record.identity, who, from,
                       std::string(chain.status().message()), CaMetrics::label(record.reason));
  return chain;
}

absl::StatusOr<std::vector<std::string>> CertificateService::issue(
    const std::string& authorization, const IstioCertificateRequest& request,
    CallRecord& record) const {
  absl::StatusOr<auth::Caller> caller = authenticator_.authenticate(authorization);
  if (!caller.ok()) {
    record.reason = Reason::kUnauthenticated;
    // Whatever the authenticator reports, the caller learns only that it is not authenticated.
    return absl::UnauthenticatedError(caller.status().message());
  }
  record.caller = describe(*caller);

  absl::StatusOr<Csr> csr = Csr::parse(request.csr());
  if (!csr.ok()) {
    record.reason = absl::IsInvalidArgument(csr.status()) ? Reason::kInvalidCsr : Reason::kInternal;
    return csr.status();
  }
  absl::StatusOr<std::string> requested = requestedIdentity(*caller, *csr, request);
  if (!requested.ok()) {
    record.reason = Reason::kInvalidIdentity;
    return requested.status();
  }
  record.identity = *requested;
  absl::StatusOr<tls::SpiffeId> id = tls::SpiffeId::parse(*requested);
  if (!id.ok()) {
    record.reason = Reason::kInvalidIdentity;
    return id.status();
  }
  if (id->trust_domain != trust_domain_) {
    record.reason = Reason::kTrustDomain;
    return absl::PermissionDeniedError(
        absl::StrCat("identity ", *requested, " is not in trust domain ", trust_domain_));
  }
  if (absl::Status allowed = authorize(*caller, *requested); !allowed.ok()) {
    record.reason = Reason::kForeignIdentity;
    return allowed;
  }
  absl::StatusOr<std::vector<std::string>> chain =
      signer_.sign(*csr, *requested, std::chrono::seconds(request.validity_duration()));
  if (!chain.ok()) record.reason = Reason::kInternal;
  return chain;
}

absl::StatusOr<std::string> CertificateService::requestedIdentity(
    const auth::Caller& caller, const Csr& csr, const IstioCertificateRequest& request) const {
  const std::vector<std::string>& sans = csr.uriSans();
  if (sans.size() > 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CSR asks for ", sans.size(), " URI SANs; a certificate holds exactly one SPIFFE ID"));
  }
  std::string impersonated;
  const auto& fields = request.metadata().fields();
  if (auto it = fields.find(kImpersonatedIdentity); it != fields.end()) {
    if (!it->second.has_string_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("metadata ", kImpersonatedIdentity, " must be a string"));
    }
    impersonated = it->second.string_value();
  }
  if (!sans.empty() && !impersonated.empty() && sans.front() != impersonated) {
    return absl::InvalidArgumentError(absl::StrCat("CSR asks for ", sans.front(), " but ",
                                                   kImpersonatedIdentity, " is ", impersonated));
  }
  if (!sans.empty()) return sans.front();
  if (!impersonated.empty()) return impersonated;
  // A waypoint has exactly one identity, so it need not name it.
  if (caller.kind == auth::Caller::Kind::kWaypoint) return caller.identity;
  return absl::InvalidArgumentError(
      absl::StrCat("no identity requested: put the SPIFFE ID in the CSR's URI SAN or in metadata ",
                   kImpersonatedIdentity));
}

absl::Status CertificateService::authorize(const auth::Caller& caller,
                                           const std::string& identity) const {
  switch (caller.kind) {
    case auth::Caller::Kind::kWaypoint:
      if (identity == caller.identity) return absl::OkStatus();
      return absl::PermissionDeniedError(absl::StrCat(
          "waypoint ", caller.identity, " may obtain only its own identity, not ", identity));
    case auth::Caller::Kind::kNodeAgent:
      if (directory_.podOnNodeHasIdentity(caller.node, identity)) return absl::OkStatus();
      return absl::PermissionDeniedError(
          absl::StrCat("node ", caller.node, " runs no pod with identity ", identity));
  }
  return absl::InternalError("unknown caller kind");
}

}  // namespace ambit::control::ca
