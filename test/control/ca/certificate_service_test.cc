// IstioCertificateService through a real gRPC server on 127.0.0.1 with TLS and a real client stub:
// who may obtain which identity, and the status of each refusal.
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include <grpcpp/grpcpp.h>

#include "control/auth/token_file_authenticator.h"
#include "control/ca/certificate_service.h"
#include "control/ca/serving_credentials.h"
#include "core/tls/grpc_credentials.h"
#include "test/core/tls/test_pki.h"

namespace ambit::control::ca {
namespace {

namespace testing = tls::testing;

using istio::v1::auth::IstioCertificateRequest;
using istio::v1::auth::IstioCertificateResponse;
using istio::v1::auth::IstioCertificateService;
using Refusal = CaMetrics::Refusal;

constexpr const char* kNodeToken = "node-n1-token-0123456789";
constexpr const char* kWaypointToken = "waypoint-token-0123456789";
constexpr const char* kPodOnN1 = "spiffe://cluster.local/ns/shop/sa/cart";
constexpr const char* kPodOnN2 = "spiffe://cluster.local/ns/shop/sa/payments";
constexpr const char* kWaypointId = "spiffe://cluster.local/ns/shop/sa/waypoint";

class FakeDirectory : public IdentityDirectory {
 public:
  bool podOnNodeHasIdentity(const std::string& node, const std::string& id) const override {
    auto it = pods_.find(node);
    return it != pods_.end() && it->second.count(id) == 1;
  }

 private:
  const std::map<std::string, std::set<std::string>> pods_ = {{"n1", {kPodOnN1}},
                                                              {"n2", {kPodOnN2}}};
};

struct Reply {
  grpc::Status status;
  IstioCertificateResponse response;
};

class Harness {
 public:
  Harness() {
    absl::StatusOr<RootCa> root = RootCa::loadOrCreate(dir_.path() / "state", "cluster.local");
    REQUIRE(root.ok());
    ca_ = std::make_shared<const RootCa>(std::move(*root));
    absl::StatusOr<std::unique_ptr<CertificateSigner>> signer = CertificateSigner::create(ca_);
    REQUIRE(signer.ok());
    signer_ = std::move(*signer);
    testing::writeText(
        dir_.path() / "tokens",
        absl::StrCat(kNodeToken, " node n1\n", kWaypointToken, " waypoint ", kWaypointId, "\n"));
    auto auth = auth::TokenFileAuthenticator::create((dir_.path() / "tokens").string());
    REQUIRE(auth.ok());
    authenticator_ = std::move(*auth);
    service_ = std::make_unique<CertificateService>(*authenticator_, directory_, *signer_,
                                                    "cluster.local");

    absl::StatusOr<ServingCertificate> serving =
        signer_->issueServing({"localhost"}, {"127.0.0.1"}, std::chrono::hours(1));
    REQUIRE(serving.ok());
    auto server_creds = serverCredentials(*serving, ca_->rootPem());
    REQUIRE(server_creds.ok());
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", *server_creds, &port_);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    REQUIRE(server_ != nullptr);
    REQUIRE(port_ > 0);
    auto client_creds = tls::clientCredentials(ca_->rootPem());
    REQUIRE(client_creds.ok());
    stub_ = IstioCertificateService::NewStub(grpc::CreateChannel(target(), *client_creds));
  }
  ~Harness() { server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5)); }

  std::string target() const { return absl::StrCat("127.0.0.1:", port_); }
  const RootCa& ca() const { return *ca_; }
  const CaMetrics& metrics() const { return service_->metrics(); }

  Reply call(const std::string& authorization, const std::string& csr,
             const std::string& impersonated = "", IstioCertificateService::Stub* stub = nullptr) {
    IstioCertificateRequest request;
    request.set_csr(csr);
    if (!impersonated.empty()) {
      (*request.mutable_metadata()->mutable_fields())["ImpersonatedIdentity"].set_string_value(
          impersonated);
    }
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!authorization.empty()) context.AddMetadata("authorization", authorization);
    Reply reply;
    reply.status = (stub != nullptr ? stub : stub_.get())
                       ->CreateCertificate(&context, request, &reply.response);
    return reply;
  }

 private:
  testing::TempDir dir_;
  std::shared_ptr<const RootCa> ca_;
  std::unique_ptr<CertificateSigner> signer_;
  std::unique_ptr<auth::TokenFileAuthenticator> authenticator_;
  FakeDirectory directory_;
  std::unique_ptr<CertificateService> service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<IstioCertificateService::Stub> stub_;
};

std::string bearer(const char* token) { return absl::StrCat("Bearer ", token); }

std::string csrFor(const std::string& uri = "") {
  tls::EvpPkeyPtr key = testing::makeKey("P-256");
  return testing::makeCsr(
      key.get(), uri.empty() ? std::vector<std::string>{} : std::vector<std::string>{"URI:" + uri});
}

std::string leafIdentity(const Reply& reply) {
  REQUIRE(reply.response.cert_chain_size() >= 1);
  tls::X509Ptr leaf = testing::parse(reply.response.cert_chain(0));
  std::vector<std::string> sans = testing::sans(leaf.get());
  REQUIRE(sans.size() == 1);
  return sans[0];
}

TEST_CASE("node agent obtains the identity of a pod on its node, over TLS") {
  Harness h;
  SECTION("asked in the CSR") {
    Reply r = h.call(bearer(kNodeToken), csrFor(kPodOnN1));
    INFO(r.status.error_message());
    REQUIRE(r.status.ok());
    CHECK(leafIdentity(r) == absl::StrCat("URI:", kPodOnN1));
    REQUIRE(r.response.cert_chain_size() == 2);
    CHECK(r.response.cert_chain(1) == h.ca().rootPem());
    std::vector<std::string> chain(r.response.cert_chain().begin(), r.response.cert_chain().end());
    CHECK(testing::verifyChain(chain, h.ca().rootPem(), X509_PURPOSE_SSL_CLIENT) == X509_V_OK);
  }
  SECTION("asked through ImpersonatedIdentity") {
    Reply r = h.call(bearer(kNodeToken), csrFor(), kPodOnN1);
    REQUIRE(r.status.ok());
    CHECK(leafIdentity(r) == absl::StrCat("URI:", kPodOnN1));
  }
  SECTION("asked in both, agreeing") {
    Reply r = h.call(bearer(kNodeToken), csrFor(kPodOnN1), kPodOnN1);
    REQUIRE(r.status.ok());
  }
  CHECK(h.metrics().signedCount() == 1);
}

TEST_CASE("node agent is refused the identity of a pod on another node") {
  Harness h;
  Reply r = h.call(bearer(kNodeToken), csrFor(), kPodOnN2);
  CHECK(r.status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(r.status.error_message() == absl::StrCat("node n1 runs no pod with identity ", kPodOnN2));
  CHECK(r.response.cert_chain_size() == 0);

  Reply in_csr = h.call(bearer(kNodeToken), csrFor(kPodOnN2));
  CHECK(in_csr.status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(h.metrics().refusedCount(Refusal::kForeignIdentity) == 2);
  CHECK(h.metrics().signedCount() == 0);
}

TEST_CASE("waypoint obtains only its own identity") {
  Harness h;
  Reply own = h.call(bearer(kWaypointToken), csrFor(kWaypointId));
  REQUIRE(own.status.ok());
  CHECK(leafIdentity(own) == absl::StrCat("URI:", kWaypointId));

  Reply implicit = h.call(bearer(kWaypointToken), csrFor());
  REQUIRE(implicit.status.ok());
  CHECK(leafIdentity(implicit) == absl::StrCat("URI:", kWaypointId));

  Reply other = h.call(bearer(kWaypointToken), csrFor(), kPodOnN1);
  CHECK(other.status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(other.status.error_message() == absl::StrCat("waypoint ", kWaypointId,
                                                     " may obtain only its own identity, not ",
                                                     kPodOnN1));
  CHECK(h.metrics().signedCount() == 2);
  CHECK(h.metrics().refusedCount(Refusal::kForeignIdentity) == 1);
}

TEST_CASE("missing or unknown tokens are UNAUTHENTICATED") {
  Harness h;
  Reply missing = h.call("", csrFor(kPodOnN1));
  CHECK(missing.status.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(missing.status.error_message() == "missing bearer token");

  Reply unknown = h.call("Bearer not-a-known-token-at-all", csrFor(kPodOnN1));
  CHECK(unknown.status.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(unknown.status.error_message() == "unknown token");

  Reply basic = h.call("Basic dXNlcjpwYXNz", csrFor(kPodOnN1));
  CHECK(basic.status.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(h.metrics().refusedCount(Refusal::kUnauthenticated) == 3);
}

TEST_CASE("bad requests: CSR, identity and trust domain") {
  Harness h;
  struct Case {
    std::string name;
    std::string csr;
    std::string impersonated;
    grpc::StatusCode code;
    std::string message;
    Refusal reason;
  };
  const std::vector<Case> cases = {
      {"garbage CSR", "not a CSR", kPodOnN1, grpc::StatusCode::INVALID_ARGUMENT,
       "CSR is not a PEM certificate request", Refusal::kInvalidCsr},
      {"no identity", csrFor(), "", grpc::StatusCode::INVALID_ARGUMENT,
       "no identity requested: put the SPIFFE ID in the CSR's URI SAN or in metadata "
       "ImpersonatedIdentity",
       Refusal::kInvalidIdentity},
      {"CSR and metadata disagree", csrFor(kPodOnN1), kPodOnN2, grpc::StatusCode::INVALID_ARGUMENT,
       absl::StrCat("CSR asks for ", kPodOnN1, " but ImpersonatedIdentity is ", kPodOnN2),
       Refusal::kInvalidIdentity},
      {"malformed SPIFFE ID", csrFor(), "spiffe://cluster.local/ns/shop",
       grpc::StatusCode::INVALID_ARGUMENT,
       "SPIFFE ID \"spiffe://cluster.local/ns/shop\": path must be "
       "/ns/<namespace>/sa/<service-account>",
       Refusal::kInvalidIdentity},
      {"other trust domain", csrFor(), "spiffe://other.local/ns/shop/sa/cart",
       grpc::StatusCode::PERMISSION_DENIED,
       "identity spiffe://other.local/ns/shop/sa/cart is not in trust domain cluster.local",
       Refusal::kTrustDomain},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      Reply r = h.call(bearer(kNodeToken), c.csr, c.impersonated);
      CHECK(r.status.error_code() == c.code);
      CHECK(r.status.error_message() == c.message);
      CHECK(h.metrics().refusedCount(c.reason) == 1);
      CHECK(h.metrics().signedCount() == 0);
    }
  }
}

TEST_CASE("a CSR naming two identities is refused") {
  Harness h;
  tls::EvpPkeyPtr key = testing::makeKey("P-256");
  const std::string csr =
      testing::makeCsr(key.get(), {absl::StrCat("URI:", kPodOnN1), absl::StrCat("URI:", kPodOnN2)});
  Reply r = h.call(bearer(kNodeToken), csr);
  CHECK(r.status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(r.status.error_message() ==
        "CSR asks for 2 URI SANs; a certificate holds exactly one SPIFFE ID");
}

TEST_CASE("requested validity is honoured up to the maximum") {
  Harness h;
  auto creds = tls::clientCredentials(h.ca().rootPem());
  REQUIRE(creds.ok());
  auto stub = IstioCertificateService::NewStub(grpc::CreateChannel(h.target(), *creds));
  auto lifetime = [&](int64_t requested) {
    IstioCertificateRequest request;
    request.set_csr(csrFor(kPodOnN1));
    request.set_validity_duration(requested);
    grpc::ClientContext context;
    context.AddMetadata("authorization", bearer(kNodeToken));
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    IstioCertificateResponse response;
    grpc::Status status = stub->CreateCertificate(&context, request, &response);
    REQUIRE(status.ok());
    return testing::validitySeconds(testing::parse(response.cert_chain(0)).get());
  };
  CHECK(lifetime(7200) == 7200 + 60);
  CHECK(lifetime(0) == 24 * 3600 + 60);
  CHECK(lifetime(10L * 365 * 24 * 3600) == 90L * 24 * 3600 + 60);  // the default maximum
}

TEST_CASE("bearer token carried by call credentials") {
  Harness h;
  auto creds = tls::clientCredentials(h.ca().rootPem());
  REQUIRE(creds.ok());
  auto stub = IstioCertificateService::NewStub(
      grpc::CreateChannel(h.target(), tls::withBearerToken(*creds, kNodeToken)));
  Reply r = h.call("", csrFor(kPodOnN1), "", stub.get());
  INFO(r.status.error_message());
  CHECK(r.status.ok());
}

TEST_CASE("a client that does not trust the mesh root cannot connect") {
  Harness h;
  testing::TestCa stranger = testing::makeCa("Stranger root", nullptr);
  auto creds = tls::clientCredentials(stranger.cert_pem);
  REQUIRE(creds.ok());
  auto stub = IstioCertificateService::NewStub(grpc::CreateChannel(h.target(), *creds));
  Reply r = h.call(bearer(kNodeToken), csrFor(kPodOnN1), "", stub.get());
  CHECK(r.status.error_code() == grpc::StatusCode::UNAVAILABLE);

  auto plaintext = IstioCertificateService::NewStub(
      grpc::CreateChannel(h.target(), grpc::InsecureChannelCredentials()));
  Reply p = h.call(bearer(kNodeToken), csrFor(kPodOnN1), "", plaintext.get());
  CHECK(p.status.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(h.metrics().signedCount() == 0);
}

TEST_CASE("client credentials refuse an empty or malformed root") {
  CHECK(tls::clientCredentials("").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(tls::clientCredentials("garbage").status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ambit::control::ca
