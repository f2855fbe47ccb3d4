// GrpcCertificateClient against the control plane's real IstioCertificateService on a loopback
// gRPC server with TLS and bearer tokens, and the certificate manager on top of it: a pod's
// identity on this node is issued, one on another node is refused without holding back the first.
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include <grpcpp/grpcpp.h>

#include "agent/identity/certificate_client.h"
#include "agent/identity/workload_certificates.h"
#include "agent/identity/workload_csr.h"
#include "control/auth/token_file_authenticator.h"
#include "control/ca/certificate_service.h"
#include "control/ca/serving_credentials.h"
#include "core/tls/grpc_credentials.h"
#include "test/core/tls/test_pki.h"

namespace ambit::agent {
namespace {

namespace testing = tls::testing;
using namespace std::chrono_literals;

constexpr const char* kNodeToken = "node-n1-token-0123456789";
constexpr const char* kPodOnN1 = "spiffe://cluster.local/ns/shop/sa/cart";
constexpr const char* kPodOnN2 = "spiffe://cluster.local/ns/shop/sa/payments";

class Directory final : public control::ca::IdentityDirectory {
 public:
  bool podOnNodeHasIdentity(const std::string& node, const std::string& id) const override {
    auto it = pods_.find(node);
    return it != pods_.end() && it->second.count(id) == 1;
  }

 private:
  const std::map<std::string, std::set<std::string>> pods_ = {{"n1", {kPodOnN1}},
                                                              {"n2", {kPodOnN2}}};
};

// The control plane's CA service on 127.0.0.1, port chosen by the kernel.
class ControlPlaneCa {
 public:
  ControlPlaneCa() {
    auto root = control::ca::RootCa::loadOrCreate(dir_.path() / "state", "cluster.local");
    REQUIRE(root.ok());
    ca_ = std::make_shared<const control::ca::RootCa>(std::move(*root));
    auto signer = control::ca::CertificateSigner::create(ca_);
    REQUIRE(signer.ok());
    signer_ = std::move(*signer);
    testing::writeText(dir_.path() / "tokens", absl::StrCat(kNodeToken, " node n1\n"));
    auto auth = control::auth::TokenFileAuthenticator::create((dir_.path() / "tokens").string());
    REQUIRE(auth.ok());
    authenticator_ = std::move(*auth);
    service_ = std::make_unique<control::ca::CertificateService>(*authenticator_, directory_,
                                                                 *signer_, "cluster.local");
    auto serving = signer_->issueServing({"ambit-control"}, {"127.0.0.1"}, 1h);
    REQUIRE(serving.ok());
    auto creds = control::ca::serverCredentials(*serving, ca_->rootPem());
    REQUIRE(creds.ok());
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", *creds, &port_);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    REQUIRE(server_ != nullptr);
    REQUIRE(port_ > 0);
  }
  ~ControlPlaneCa() { server_->Shutdown(std::chrono::system_clock::now() + 5s); }

  // A client as the agent builds it: TLS trusting the mesh root, the node's token, the control
  // plane's server name.
  std::shared_ptr<GrpcCertificateClient> client(const std::string& token = kNodeToken) const {
    auto tls_creds = tls::clientCredentials(ca_->rootPem());
    REQUIRE(tls_creds.ok());
    return std::make_shared<GrpcCertificateClient>(GrpcCertificateClient::makeChannel(
        absl::StrCat("127.0.0.1:", port_), tls::withBearerToken(*tls_creds, token),
        "ambit-control"));
  }
  const std::string& rootPem() const { return ca_->rootPem(); }

 private:
  testing::TempDir dir_;
  std::shared_ptr<const control::ca::RootCa> ca_;
  std::unique_ptr<control::ca::CertificateSigner> signer_;
  std::unique_ptr<control::auth::TokenFileAuthenticator> authenticator_;
  Directory directory_;
  std::unique_ptr<control::ca::CertificateService> service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

std::string csrFor(const std::string& identity) {
  absl::StatusOr<tls::SpiffeId> id = tls::SpiffeId::parse(identity);
  REQUIRE(id.ok());
  absl::StatusOr<KeyAndCsr> made = makeWorkloadCsr(*id);
  REQUIRE(made.ok());
  return made->csr_pem;
}

TEST_CASE("GrpcCertificateClient obtains a certificate for a pod on its node") {
  ControlPlaneCa cp;
  auto client = cp.client();
  absl::StatusOr<std::vector<std::string>> chain =
      client->createCertificate(csrFor(kPodOnN1), kPodOnN1, 2h);
  INFO(chain.status().ToString());
  REQUIRE(chain.ok());
  REQUIRE(chain->size() == 2);
  CHECK(chain->back() == cp.rootPem());
  tls::X509Ptr leaf = testing::parse(chain->front());
  CHECK(testing::sans(leaf.get()) == std::vector<std::string>{absl::StrCat("URI:", kPodOnN1)});
  CHECK(testing::validitySeconds(leaf.get()) == 2 * 3600 + 60);  // validity_duration was sent
}

TEST_CASE("GrpcCertificateClient returns the CA's refusals as statuses naming the identity") {
  ControlPlaneCa cp;
  struct Case {
    const char* name;
    std::string token;
    std::string identity;
    absl::StatusCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"a pod on another node", kNodeToken, kPodOnN2, absl::StatusCode::kPermissionDenied,
       absl::StrCat("certificate for ", kPodOnN2, ": node n1 runs no pod with identity ",
                    kPodOnN2)},
      {"an unknown token", "not-a-known-token-at-all", kPodOnN1, absl::StatusCode::kUnauthenticated,
       absl::StrCat("certificate for ", kPodOnN1, ": unknown token")},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      absl::StatusOr<std::vector<std::string>> chain =
          cp.client(c.token)->createCertificate(csrFor(c.identity), c.identity, 1h);
      CHECK(chain.status().code() == c.code);
      CHECK(std::string(chain.status().message()) == c.message);
    }
  }
}

TEST_CASE("GrpcCertificateClient after shutdown refuses calls") {
  ControlPlaneCa cp;
  auto client = cp.client();
  client->shutdown();
  absl::StatusOr<std::vector<std::string>> chain =
      client->createCertificate(csrFor(kPodOnN1), kPodOnN1, 1h);
  CHECK(chain.status().code() == absl::StatusCode::kCancelled);
}

TEST_CASE("GrpcCertificateClient reports an unreachable control plane as UNAVAILABLE") {
  // Port 1 on loopback: nothing listens there.
  auto tls_creds = tls::clientCredentials(testing::makeCa("Mesh", nullptr).cert_pem);
  REQUIRE(tls_creds.ok());
  GrpcCertificateClient client(
      GrpcCertificateClient::makeChannel("127.0.0.1:1", *tls_creds, "ambit-control"));
  absl::StatusOr<std::vector<std::string>> chain =
      client.createCertificate(csrFor(kPodOnN1), kPodOnN1, 1h);
  CHECK(chain.status().code() == absl::StatusCode::kUnavailable);
  CHECK(classifyFetchError(chain.status()) == FetchResult::kUnavailable);
}

TEST_CASE("the manager over the real CA: the refused identity fails alone") {
  ControlPlaneCa cp;
  WorkloadCertificatesOptions options;
  options.start_thread = false;
  options.trust_bundle_pem = cp.rootPem();
  auto created = WorkloadCertificates::create(cp.client(), options);
  REQUIRE(created.ok());
  WorkloadCertificates& certs = **created;
  certs.setIdentities({kPodOnN1, kPodOnN2});
  certs.runDueNow();

  auto mine = certs.get(kPodOnN1);
  REQUIRE(mine != nullptr);
  CHECK(mine->identity.toString() == kPodOnN1);
  CHECK(certs.get(kPodOnN2) == nullptr);
  const WorkloadCertificates::Counters counters = certs.counters();
  CHECK(counters.fetches[static_cast<size_t>(FetchResult::kOk)] == 1);
  CHECK(counters.fetches[static_cast<size_t>(FetchResult::kDenied)] == 1);
  CHECK(counters.certificates == 1);
  REQUIRE(certs.trustBundle() != nullptr);
  CHECK(certs.trustBundle()->pem() == cp.rootPem());
  const std::string json = certs.debugJson();
  INFO(json);
  CHECK(json.find(absl::StrCat("PERMISSION_DENIED: certificate for ", kPodOnN2,
                               ": node n1 runs no pod with identity ", kPodOnN2)) !=
        std::string::npos);
}

}  // namespace
}  // namespace ambit::agent
