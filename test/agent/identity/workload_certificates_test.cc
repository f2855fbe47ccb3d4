// The certificate manager against a fake CA that signs real certificates with the test PKI at the
// test's own clock, so renewal, backoff and expiry are driven by moving that clock rather than by
// waiting.
#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>

#include <absl/strings/str_split.h>

#include "agent/identity/workload_certificates.h"
#include "control/ca/csr.h"
#include "test/core/tls/test_pki.h"

namespace ambit::agent {
namespace {

namespace testing = tls::testing;
using namespace std::chrono_literals;
using std::chrono::system_clock;

constexpr const char* kCart = "spiffe://cluster.local/ns/shop/sa/cart";
constexpr const char* kPayments = "spiffe://cluster.local/ns/shop/sa/payments";
constexpr const char* kAds = "spiffe://cluster.local/ns/ads/sa/ads";

class ManualClock {
 public:
  // Whole seconds, as certificates count time.
  ManualClock()
      : ticks_(system_clock::duration(
                   std::chrono::floor<std::chrono::seconds>(system_clock::now().time_since_epoch()))
                   .count()) {}
  CertTime now() const { return CertTime(system_clock::duration(ticks_.load())); }
  void set(CertTime t) { ticks_ = t.time_since_epoch().count(); }

 private:
  std::atomic<system_clock::rep> ticks_;
};

CertTime fromTimeT(std::time_t t) { return system_clock::from_time_t(t); }

// Signs the way the mesh CA does (the CSR must ask for the identity; the leaf's only SAN is it;
// back-dated a minute) but at the test's clock, and can be told to fail in the ways a CA fails.
class FakeCa final : public CertificateClient {
 public:
  explicit FakeCa(const ManualClock& clock)
      : clock_(clock), root_(testing::makeCa("Mesh", nullptr)) {}

  absl::StatusOr<std::vector<std::string>> createCertificate(const std::string& csr_pem,
                                                             const std::string& identity,
                                                             std::chrono::seconds ttl) override {
    std::unique_lock lock(mu_);
    ++calls_[identity];
    ++total_calls_;
    last_ttl_ = ttl;
    changed_.notify_all();
    if (block_) changed_.wait(lock, [this] { return shut_down_; });
    if (shut_down_) return absl::CancelledError("certificate for " + identity + ": cancelled");
    if (down_) {
      return absl::UnavailableError("certificate for " + identity + ": connection refused");
    }
    if (refused_.count(identity) == 1) {
      return absl::PermissionDeniedError(absl::StrCat(
          "certificate for ", identity, ": node n1 runs no pod with identity ", identity));
    }
    absl::StatusOr<control::ca::Csr> csr = control::ca::Csr::parse(csr_pem);
    if (!csr.ok()) return csr.status();
    if (csr->uriSans() != std::vector<std::string>{identity}) {
      return absl::InvalidArgumentError("CSR does not ask for " + identity);
    }
    const testing::TestCa& signer = other_signer_ ? *other_signer_ : root_;
    std::vector<std::string> chain = {
        sign(csr->publicKey(), issue_as_.empty() ? identity : issue_as_, ttl, signer)};
    if (!omit_root_) chain.push_back(root_.cert_pem);
    return chain;
  }

  void shutdown() override {
    std::lock_guard lock(mu_);
    shut_down_ = true;
    changed_.notify_all();
  }

  void setDown(bool down) {
    locked([&] { down_ = down; });
  }
  void refuse(const std::string& identity) {
    locked([&] { refused_.insert(identity); });
  }
  void setBlock(bool block) {
    locked([&] { block_ = block; });
  }
  void issueAs(const std::string& identity) {
    locked([&] { issue_as_ = identity; });
  }
  void omitRoot() {
    locked([&] { omit_root_ = true; });
  }
  void signWithAnotherCa() {
    locked([&] {
      other_signer_ = std::make_unique<testing::TestCa>(testing::makeCa("Other", nullptr));
    });
  }

  int calls(const std::string& identity) const {
    std::lock_guard lock(mu_);
    auto it = calls_.find(identity);
    return it == calls_.end() ? 0 : it->second;
  }
  std::chrono::seconds lastTtl() const {
    std::lock_guard lock(mu_);
    return last_ttl_;
  }
  // Bounded: false when fewer than `n` calls arrived within `timeout`.
  bool waitForCalls(int n, std::chrono::seconds timeout) const {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, timeout, [&] { return total_calls_ >= n; });
  }
  const std::string& rootPem() const { return root_.cert_pem; }

 private:
  template <typename F>
  void locked(F f) {
    std::lock_guard lock(mu_);
    f();
  }

  std::string sign(EVP_PKEY* key, const std::string& identity, std::chrono::seconds ttl,
                   const testing::TestCa& signer) const {
    tls::X509Ptr cert(X509_new());
    REQUIRE(X509_set_version(cert.get(), X509_VERSION_3) == 1);
    REQUIRE(tls::setRandomSerial(cert.get()).ok());
    const CertTime now = clock_.now();
    REQUIRE(tls::setValidity(cert.get(), system_clock::to_time_t(now - 60s),
                             system_clock::to_time_t(now + ttl))
                .ok());
    REQUIRE(X509_set_issuer_name(cert.get(), X509_get_subject_name(signer.cert.get())) == 1);
    REQUIRE(X509_set_pubkey(cert.get(), key) == 1);
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, signer.cert.get(), cert.get(), nullptr, nullptr, 0);
    REQUIRE(tls::addExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE").ok());
    REQUIRE(tls::addExtension(cert.get(), &ctx, NID_ext_key_usage, "serverAuth,clientAuth").ok());
    tls::GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
    GENERAL_NAME* name = GENERAL_NAME_new();
    ASN1_IA5STRING* text = ASN1_IA5STRING_new();
    REQUIRE(ASN1_STRING_set(text, identity.data(), static_cast<int>(identity.size())) == 1);
    GENERAL_NAME_set0_value(name, GEN_URI, text);
    REQUIRE(sk_GENERAL_NAME_push(names.get(), name) > 0);
    REQUIRE(tls::addSubjectAltNames(cert.get(), names.get(), true).ok());
    REQUIRE(X509_sign(cert.get(), signer.key.get(), EVP_sha256()) > 0);
    return *tls::certToPem(cert.get());
  }

  const ManualClock& clock_;
  const testing::TestCa root_;
  mutable std::mutex mu_;
  mutable std::condition_variable_any changed_;
  std::map<std::string, int> calls_;
  int total_calls_ = 0;
  std::chrono::seconds last_ttl_{0};
  bool down_ = false;
  bool block_ = false;
  bool shut_down_ = false;
  bool omit_root_ = false;
  std::set<std::string> refused_;
  std::string issue_as_;
  std::unique_ptr<testing::TestCa> other_signer_;
};

struct Harness {
  explicit Harness(const std::function<void(WorkloadCertificatesOptions&)>& tweak = {}) {
    WorkloadCertificatesOptions options;
    options.ttl = 1h;
    options.clock = [this] { return clock.now(); };
    options.jitter = [this] { return jitter.load(); };
    options.start_thread = false;
    if (tweak) tweak(options);
    absl::StatusOr<std::unique_ptr<WorkloadCertificates>> created =
        WorkloadCertificates::create(ca, std::move(options));
    INFO(created.status().ToString());
    REQUIRE(created.ok());
    certs = std::move(*created);
  }

  uint64_t fetches(FetchResult result) const {
    return certs->counters().fetches[static_cast<size_t>(result)];
  }

  ManualClock clock;
  std::atomic<double> jitter{0};
  std::shared_ptr<FakeCa> ca = std::make_shared<FakeCa>(clock);
  std::unique_ptr<WorkloadCertificates> certs;
};

void checkMatches(const tls::WorkloadCredential& credential, const std::string& identity,
                  const std::string& root_pem) {
  CHECK(credential.identity.toString() == identity);
  CHECK(testing::sans(credential.leaf.get()) == std::vector<std::string>{"URI:" + identity});
  CHECK(X509_check_private_key(credential.leaf.get(), credential.key.get()) == 1);
  CHECK(tls::isP256(credential.key.get()));
  std::vector<std::string> chain;
  for (const tls::X509Ptr& cert : credential.chain) chain.push_back(*tls::certToPem(cert.get()));
  chain.insert(chain.begin(), *tls::certToPem(credential.leaf.get()));
  CHECK(testing::verifyChain(chain, root_pem, X509_PURPOSE_SSL_CLIENT) == X509_V_OK);
}

TEST_CASE("nothing before the first fetch, then a certificate per identity that matches it") {
  Harness h;
  h.certs->setIdentities({kCart, kPayments});
  CHECK(h.certs->get(kCart) == nullptr);
  CHECK(h.certs->get(kPayments) == nullptr);
  CHECK(h.certs->trustBundle() == nullptr);
  CHECK(h.ca->calls(kCart) == 0);  // nothing runs without the thread until runDueNow

  const CertTime next = h.certs->runDueNow();
  auto cart = h.certs->get(kCart);
  auto payments = h.certs->get(kPayments);
  REQUIRE(cart != nullptr);
  REQUIRE(payments != nullptr);
  checkMatches(*cart, kCart, h.ca->rootPem());
  checkMatches(*payments, kPayments, h.ca->rootPem());
  CHECK(cart->key_pem != payments->key_pem);
  CHECK(h.certs->get(kAds) == nullptr);
  CHECK(h.ca->lastTtl() == 1h);

  REQUIRE(h.certs->trustBundle() != nullptr);
  CHECK(h.certs->trustBundle()->pem() == h.ca->rootPem());
  CHECK(h.fetches(FetchResult::kOk) == 2);
  CHECK(h.certs->counters().certificates == 2);
  CHECK(h.certs->counters().seconds_to_earliest_expiry == 3600);
  CHECK(next == h.clock.now() + 1770s);  // back-dated 60s, so half of 3660s after t-60s
}

TEST_CASE("renewal happens at half-life by the injected clock") {
  Harness h;
  const CertTime start = h.clock.now();
  h.certs->setIdentities({kCart});
  h.certs->runDueNow();
  auto first = h.certs->get(kCart);
  REQUIRE(first != nullptr);
  const CertTime renew = renewalTime(fromTimeT(first->not_before), fromTimeT(first->not_after));
  CHECK(renew == start + 1770s);

  h.clock.set(renew - 1s);
  CHECK(h.certs->runDueNow() == renew);
  CHECK(h.ca->calls(kCart) == 1);
  CHECK(h.certs->get(kCart) == first);

  h.clock.set(renew);
  const CertTime next = h.certs->runDueNow();
  CHECK(h.ca->calls(kCart) == 2);
  auto second = h.certs->get(kCart);
  REQUIRE(second != nullptr);
  CHECK(second != first);
  CHECK(second->serial_hex != first->serial_hex);
  CHECK(second->key_pem != first->key_pem);  // a new key with every certificate
  CHECK(fromTimeT(second->not_after) == renew + 1h);
  CHECK(next == renew + 1770s);
  CHECK(h.fetches(FetchResult::kOk) == 2);
}

TEST_CASE("a failing CA leaves the old certificate in use until it expires, then it is dropped") {
  Harness h;
  h.certs->setIdentities({kCart});
  h.certs->runDueNow();
  auto held = h.certs->get(kCart);
  REQUIRE(held != nullptr);
  const CertTime expiry = fromTimeT(held->not_after);
  h.ca->setDown(true);

  h.clock.set(renewalTime(fromTimeT(held->not_before), expiry));
  int attempts = 0;
  while (h.clock.now() < expiry) {
    const CertTime next = h.certs->runDueNow();
    ++attempts;
    REQUIRE(h.certs->get(kCart) == held);
    REQUIRE(next > h.clock.now());
    REQUIRE(next <= expiry);  // the manager wakes at the latest when the certificate expires
    h.clock.set(next);
  }
  CHECK(h.ca->calls(kCart) == 1 + attempts);
  CHECK(h.fetches(FetchResult::kUnavailable) == static_cast<uint64_t>(attempts));
  // 1830s of retries: 1+2+...+32 = 63s, then one a minute.
  CHECK(attempts > 25);
  CHECK(attempts < 40);
  CHECK(h.certs->debugJson().find("\"state\": \"failing\"") != std::string::npos);

  // The clock is at the expiry now.
  CHECK(h.certs->get(kCart) == nullptr);  // refused even before the manager drops it
  h.certs->runDueNow();
  CHECK(h.certs->get(kCart) == nullptr);
  CHECK(h.certs->counters().certificates == 0);
  CHECK(h.certs->debugJson().find("\"serial\"") == std::string::npos);
}

TEST_CASE("backoff after failures doubles from 1s and is capped at 60s, shortened by jitter") {
  struct Case {
    double jitter;
    std::vector<int64_t> want_ms;
  };
  const std::vector<Case> cases = {
      {0.0, {1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000}},
      {0.5, {900, 1800, 3600, 7200, 14400, 28800, 54000, 54000, 54000}},
      {1.0, {800, 1600, 3200, 6400, 12800, 25600, 48000, 48000, 48000}},
  };
  for (const Case& c : cases) {
    SECTION("jitter " + std::to_string(c.jitter)) {
      Harness h;
      h.jitter = c.jitter;
      h.ca->setDown(true);
      h.certs->setIdentities({kCart});
      std::vector<int64_t> waits;
      for (size_t i = 0; i < c.want_ms.size(); ++i) {
        const CertTime next = h.certs->runDueNow();
        waits.push_back(
            std::chrono::duration_cast<std::chrono::milliseconds>(next - h.clock.now()).count());
        h.clock.set(next);
      }
      CHECK(waits == c.want_ms);
      CHECK(h.ca->calls(kCart) == static_cast<int>(c.want_ms.size()));
      CHECK(h.certs->get(kCart) == nullptr);

      // Recovery resets the backoff: the next wait is the renewal, not another retry.
      h.ca->setDown(false);
      const CertTime next = h.certs->runDueNow();
      auto held = h.certs->get(kCart);
      REQUIRE(held != nullptr);
      // Certificates count whole seconds while the jittered clock need not.
      CHECK(next == renewalTime(fromTimeT(held->not_before), fromTimeT(held->not_after)));
      CHECK(next > h.clock.now() + 1769s);
      CHECK(h.certs->debugJson().find("\"state\": \"valid\"") != std::string::npos);
    }
  }
}

TEST_CASE("an identity the CA refuses never holds back another") {
  Harness h;
  h.ca->refuse(kPayments);
  h.certs->setIdentities({kCart, kPayments});
  const CertTime next = h.certs->runDueNow();
  CHECK(h.certs->get(kCart) != nullptr);
  CHECK(h.certs->get(kPayments) == nullptr);
  CHECK(h.fetches(FetchResult::kOk) == 1);
  CHECK(h.fetches(FetchResult::kDenied) == 1);
  CHECK(next == h.clock.now() + 1s);  // the refused one is retried with the backoff
  const std::string json = h.certs->debugJson();
  CHECK(json.find("PERMISSION_DENIED: certificate for spiffe://cluster.local/ns/shop/sa/payments: "
                  "node n1 runs no pod with identity") != std::string::npos);

  h.clock.set(next);
  h.certs->runDueNow();
  CHECK(h.ca->calls(kPayments) == 2);
  CHECK(h.ca->calls(kCart) == 1);
  CHECK(h.certs->get(kCart) != nullptr);
}

TEST_CASE("identities no longer listed are forgotten at once, with their certificates") {
  int changes = 0;
  Harness h([&](WorkloadCertificatesOptions& o) { o.on_change = [&] { ++changes; }; });
  h.certs->setIdentities({kCart, kPayments});
  h.certs->runDueNow();
  auto cart = h.certs->get(kCart);
  REQUIRE(cart != nullptr);
  REQUIRE(h.certs->get(kPayments) != nullptr);
  const int before = changes;

  h.certs->setIdentities({kCart});
  CHECK(h.certs->get(kPayments) == nullptr);
  CHECK(h.certs->get(kCart) == cart);
  CHECK(changes == before + 1);
  CHECK(h.certs->counters().certificates == 1);
  CHECK(h.certs->debugJson().find(kPayments) == std::string::npos);

  h.certs->runDueNow();
  CHECK(h.ca->calls(kPayments) == 1);
  h.certs->setIdentities({kCart, kPayments});  // back again: fetched anew
  h.certs->runDueNow();
  CHECK(h.ca->calls(kPayments) == 2);
  CHECK(h.certs->get(kPayments) != nullptr);
  CHECK(h.ca->calls(kCart) == 1);

  h.certs->setIdentities({});
  CHECK(h.certs->get(kCart) == nullptr);
  CHECK(h.certs->runDueNow() == CertTime::max());
}

TEST_CASE("debugJson shows identity, serial, validity and state, never a key") {
  Harness h;
  h.ca->refuse(kPayments);
  h.certs->setIdentities({kCart, kPayments});
  h.certs->runDueNow();
  auto cart = h.certs->get(kCart);
  REQUIRE(cart != nullptr);
  const std::string json = h.certs->debugJson();
  INFO(json);
  CHECK(json.find(absl::StrCat("\"identity\": \"", kCart, "\"")) != std::string::npos);
  CHECK(json.find(absl::StrCat("\"serial\": \"", cart->serial_hex, "\"")) != std::string::npos);
  CHECK(json.find("\"not_before\": \"") != std::string::npos);
  CHECK(json.find("\"not_after\": \"") != std::string::npos);
  CHECK(json.find("\"state\": \"valid\"") != std::string::npos);
  CHECK(json.find("\"state\": \"failing\"") != std::string::npos);
  CHECK(json.find("\"trust_bundle_roots\": 1") != std::string::npos);

  CHECK(json.find("PRIVATE KEY") == std::string::npos);
  // No line of the key's base64 body either.
  std::vector<std::string> lines = absl::StrSplit(cart->key_pem, '\n', absl::SkipEmpty());
  REQUIRE(lines.size() > 2);
  for (size_t i = 1; i + 1 < lines.size(); ++i) CHECK(json.find(lines[i]) == std::string::npos);

  h.clock.set(renewalTime(fromTimeT(cart->not_before), fromTimeT(cart->not_after)));
  CHECK(h.certs->debugJson().find("\"state\": \"renewing\"") != std::string::npos);
}

TEST_CASE("a CA answer that is not a usable certificate for the identity is refused") {
  struct Case {
    const char* name;
    std::function<void(FakeCa&)> breakCa;
  };
  const std::vector<Case> cases = {
      {"another identity", [](FakeCa& ca) { ca.issueAs(kAds); }},
      {"no root after the leaf", [](FakeCa& ca) { ca.omitRoot(); }},
      {"a leaf the root did not sign", [](FakeCa& ca) { ca.signWithAnotherCa(); }},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      Harness h;
      c.breakCa(*h.ca);
      h.certs->setIdentities({kCart});
      const CertTime next = h.certs->runDueNow();
      CHECK(h.certs->get(kCart) == nullptr);
      CHECK(h.certs->trustBundle() == nullptr);
      CHECK(h.fetches(FetchResult::kInvalidResponse) == 1);
      CHECK(next == h.clock.now() + 1s);
    }
  }
}

TEST_CASE("the trust bundle starts from the seed and follows the CA's root") {
  const testing::TestCa old_root = testing::makeCa("Old mesh root", nullptr);
  SECTION("a seed without the CA's root is replaced by it") {
    Harness h([&](WorkloadCertificatesOptions& o) { o.trust_bundle_pem = old_root.cert_pem; });
    REQUIRE(h.certs->trustBundle() != nullptr);
    CHECK(h.certs->trustBundle()->pem() == old_root.cert_pem);
    h.certs->setIdentities({kCart});
    h.certs->runDueNow();
    REQUIRE(h.certs->trustBundle() != nullptr);
    CHECK(h.certs->trustBundle()->pem() == h.ca->rootPem());
  }
  SECTION("a seed holding the CA's root is kept whole") {
    ManualClock clock;
    auto ca = std::make_shared<FakeCa>(clock);
    const std::string both = old_root.cert_pem + ca->rootPem();
    WorkloadCertificatesOptions o;
    o.clock = [&clock] { return clock.now(); };
    o.start_thread = false;
    o.trust_bundle_pem = both;
    absl::StatusOr<std::unique_ptr<WorkloadCertificates>> certs =
        WorkloadCertificates::create(ca, o);
    REQUIRE(certs.ok());
    (*certs)->setIdentities({kCart});
    (*certs)->runDueNow();
    REQUIRE((*certs)->get(kCart) != nullptr);
    REQUIRE((*certs)->trustBundle() != nullptr);
    CHECK((*certs)->trustBundle()->pem() == both);
    CHECK((*certs)->trustBundle()->roots().size() == 2);
  }
  SECTION("a malformed seed is an error at creation") {
    ManualClock clock;
    WorkloadCertificatesOptions o;
    o.trust_bundle_pem = "not a certificate";
    o.start_thread = false;
    absl::StatusOr<std::unique_ptr<WorkloadCertificates>> created =
        WorkloadCertificates::create(std::make_shared<FakeCa>(clock), o);
    CHECK(created.status().code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("options that would spin or cannot work are refused") {
  ManualClock clock;
  struct Case {
    const char* name;
    std::function<void(WorkloadCertificatesOptions&)> tweak;
  };
  const std::vector<Case> cases = {
      {"zero ttl", [](WorkloadCertificatesOptions& o) { o.ttl = 0s; }},
      {"zero initial backoff", [](WorkloadCertificatesOptions& o) { o.backoff.initial = 0ms; }},
      {"cap below initial", [](WorkloadCertificatesOptions& o) { o.backoff.max = 500ms; }},
      {"jitter fraction 1", [](WorkloadCertificatesOptions& o) { o.backoff.jitter_fraction = 1; }},
      {"no clock", [](WorkloadCertificatesOptions& o) { o.clock = nullptr; }},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      WorkloadCertificatesOptions o;
      o.start_thread = false;
      c.tweak(o);
      CHECK(WorkloadCertificates::create(std::make_shared<FakeCa>(clock), o).status().code() ==
            absl::StatusCode::kInvalidArgument);
    }
  }
  CHECK(WorkloadCertificates::create(nullptr, {}).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("metrics go to the registry passed in") {
  metrics::Registry registry;
  Harness h([&](WorkloadCertificatesOptions& o) { o.registry = &registry; });
  h.ca->refuse(kPayments);
  h.certs->setIdentities({kCart, kPayments});
  h.certs->runDueNow();
  h.clock.set(h.clock.now() + 600s);
  h.certs->refreshMetrics();
  const std::string text = registry.render();
  INFO(text);
  CHECK(text.find("ambit_agent_certificate_fetches_total{result=\"ok\"} 1\n") != std::string::npos);
  CHECK(text.find("ambit_agent_certificate_fetches_total{result=\"denied\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("ambit_agent_certificate_fetches_total{result=\"unavailable\"} 0\n") !=
        std::string::npos);
  CHECK(text.find("ambit_agent_certificates 1\n") != std::string::npos);
  CHECK(text.find("ambit_agent_certificate_expiry_seconds 3000\n") != std::string::npos);
  CHECK(h.certs->counters().seconds_to_earliest_expiry == 3000);
}

TEST_CASE("the manager's own thread fetches new identities and tells of each change") {
  std::mutex mu;
  std::condition_variable cv;
  int changes = 0;
  Harness h([&](WorkloadCertificatesOptions& o) {
    o.start_thread = true;
    o.on_change = [&] {
      std::lock_guard lock(mu);
      ++changes;
      cv.notify_all();
    };
  });
  h.certs->setIdentities({kCart});
  {
    std::unique_lock lock(mu);
    REQUIRE(cv.wait_for(lock, 10s, [&] { return changes >= 1; }));
  }
  CHECK(h.certs->get(kCart) != nullptr);
  h.certs->setIdentities({kCart, kPayments});
  {
    std::unique_lock lock(mu);
    REQUIRE(cv.wait_for(lock, 10s, [&] { return changes >= 2; }));
  }
  CHECK(h.certs->get(kPayments) != nullptr);
  h.certs->stop();
  h.certs->stop();  // idempotent
}

TEST_CASE("stop returns promptly during a backoff wait and during a call") {
  SECTION("backing off") {
    Harness h([](WorkloadCertificatesOptions& o) {
      o.start_thread = true;
      o.backoff.initial = std::chrono::hours(1);
      o.backoff.max = std::chrono::hours(1);
    });
    h.ca->setDown(true);
    h.certs->setIdentities({kCart});
    REQUIRE(h.ca->waitForCalls(1, 10s));
    const auto started = std::chrono::steady_clock::now();
    h.certs->stop();
    CHECK(std::chrono::steady_clock::now() - started < 5s);
  }
  SECTION("a call in flight") {
    Harness h([](WorkloadCertificatesOptions& o) { o.start_thread = true; });
    h.ca->setBlock(true);
    h.certs->setIdentities({kCart});
    REQUIRE(h.ca->waitForCalls(1, 10s));
    const auto started = std::chrono::steady_clock::now();
    h.certs->stop();
    CHECK(std::chrono::steady_clock::now() - started < 5s);
    CHECK(h.certs->get(kCart) == nullptr);
    // A call cut short by stop is no failure of the CA.
    CHECK(h.fetches(FetchResult::kError) == 0);
  }
}

}  // namespace
}  // namespace ambit::agent
