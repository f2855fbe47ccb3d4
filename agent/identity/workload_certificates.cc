#include "agent/identity/workload_certificates.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <absl/time/time.h>
#include <openssl/err.h>

#include "agent/identity/workload_csr.h"
#include "core/json/json_writer.h"
#include "core/log.h"
#include "core/tls/spiffe_id.h"

namespace ambit::agent {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::system_clock;

// The longest the thread sleeps without looking at the clock again, so a wall clock that jumps
// forward delays a renewal by at most this much.
constexpr std::chrono::seconds kMaxSleep{30};

std::shared_ptr<spdlog::logger> logger() { return log::get("certs"); }

std::string formatTime(CertTime t) {
  return absl::FormatTime(absl::RFC3339_sec, absl::FromChrono(t), absl::UTCTimeZone());
}

CertTime fromTimeT(std::time_t t) { return system_clock::from_time_t(t); }

// Whether the leaf chains to one of `roots`, leaving time out: a clock of ours that lags the CA's
// must not turn away a certificate that peers accept. Expiry is checked by the caller.
absl::Status verifyChainUntimed(const tls::WorkloadCredential& credential,
                                const std::vector<tls::X509Ptr>& roots) {
  tls::X509StorePtr store(X509_STORE_new());
  tls::X509StackPtr untrusted(sk_X509_new_null());
  tls::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !ctx) return absl::InternalError("X509 store allocation failed");
  for (const tls::X509Ptr& root : roots) {
    if (X509_STORE_add_cert(store.get(), root.get()) != 1) {
      return absl::InternalError(absl::StrCat("add trust anchor: ", tls::opensslErrors()));
    }
  }
  // The stack borrows the certificates; `credential` keeps them alive.
  for (const tls::X509Ptr& other : credential.chain) {
    if (sk_X509_push(untrusted.get(), other.get()) <= 0) return absl::InternalError("sk_X509_push");
  }
  if (X509_STORE_CTX_init(ctx.get(), store.get(), credential.leaf.get(), untrusted.get()) != 1) {
    return absl::InternalError(absl::StrCat("X509_STORE_CTX_init: ", tls::opensslErrors()));
  }
  X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_NO_CHECK_TIME);
  if (X509_verify_cert(ctx.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat("the certificate does not verify against the root of the CA's answer: ",
                     X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()))));
  }
  return absl::OkStatus();
}

// Checks the CA's answer before any connection can use it: the key is ours, the leaf names the
// identity asked for and chains to the root at the end of the answer, and it has not expired.
absl::StatusOr<std::shared_ptr<const tls::WorkloadCredential>> acceptChain(
    const std::string& identity, const std::string& key_pem, const std::vector<std::string>& chain,
    CertTime now) {
  if (chain.size() < 2) {
    return absl::InvalidArgumentError("the CA's answer holds no root after the leaf");
  }
  std::string joined;
  for (const std::string& pem : chain) {
    joined += pem;
    if (!pem.empty() && pem.back() != '\n') joined += '\n';
  }
  AMBIT_ASSIGN_OR_RETURN(tls::WorkloadCredential credential,
                         tls::WorkloadCredential::fromPem(joined, key_pem));
  if (credential.identity.toString() != identity) {
    return absl::InvalidArgumentError(
        absl::StrCat("the CA issued a certificate for ", credential.identity.toString()));
  }
  AMBIT_ASSIGN_OR_RETURN(std::vector<tls::X509Ptr> roots,
                         tls::parseCertsPem(chain.back(), "the CA's root"));
  AMBIT_RETURN_IF_ERROR(verifyChainUntimed(credential, roots));
  if (fromTimeT(credential.not_after) <= now) {
    return absl::InvalidArgumentError(
        absl::StrCat("the certificate expired at ", formatTime(fromTimeT(credential.not_after))));
  }
  return std::make_shared<const tls::WorkloadCredential>(std::move(credential));
}

const char* stateOf(bool in_flight, const CertificateSchedule& s, CertTime now) {
  if (s.failures > 0) return "failing";
  if (!s.has_certificate) return "pending";
  if (in_flight || now >= renewalTime(s.not_before, s.not_after)) return "renewing";
  return "valid";
}

}  // namespace

CertTime renewalTime(CertTime not_before, CertTime not_after) {
  return not_before + (not_after - not_before) / 2;
}

CertificateAction nextAction(const CertificateSchedule& state, CertTime now) {
  if (state.has_certificate && now >= state.not_after) {
    return {CertificateActionKind::kDrop, now};
  }
  CertTime due = state.earliest_fetch;
  if (state.has_certificate && state.failures == 0) {
    due = std::max(due, renewalTime(state.not_before, state.not_after));
  }
  if (now >= due) return {CertificateActionKind::kFetch, now};
  return {CertificateActionKind::kWait,
          state.has_certificate ? std::min(due, state.not_after) : due};
}

milliseconds backoffDelay(int failures, double jitter, const BackoffPolicy& policy) {
  if (failures < 1) return milliseconds(0);
  milliseconds base = policy.initial;
  for (int i = 1; i < failures && base < policy.max; ++i) base *= 2;
  base = std::min(base, policy.max);
  const double shortened = 1.0 - policy.jitter_fraction * std::clamp(jitter, 0.0, 1.0);
  return milliseconds(std::llround(static_cast<double>(base.count()) * shortened));
}

const char* fetchResultLabel(FetchResult result) {
  switch (result) {
    case FetchResult::kOk:
      return "ok";
    case FetchResult::kDenied:
      return "denied";
    case FetchResult::kUnauthenticated:
      return "unauthenticated";
    case FetchResult::kUnavailable:
      return "unavailable";
    case FetchResult::kTimeout:
      return "timeout";
    case FetchResult::kInvalidResponse:
      return "invalid_response";
    case FetchResult::kError:
    case FetchResult::kCount:
      break;
  }
  return "error";
}

FetchResult classifyFetchError(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return FetchResult::kOk;
    case absl::StatusCode::kPermissionDenied:
      return FetchResult::kDenied;
    case absl::StatusCode::kUnauthenticated:
      return FetchResult::kUnauthenticated;
    case absl::StatusCode::kUnavailable:
      return FetchResult::kUnavailable;
    case absl::StatusCode::kDeadlineExceeded:
      return FetchResult::kTimeout;
    default:
      return FetchResult::kError;
  }
}

absl::StatusOr<std::unique_ptr<WorkloadCertificates>> WorkloadCertificates::create(
    std::shared_ptr<CertificateClient> client, WorkloadCertificatesOptions options) {
  if (client == nullptr) return absl::InvalidArgumentError("certificates need a CA client");
  if (!options.clock) return absl::InvalidArgumentError("certificates need a clock");
  if (options.ttl.count() <= 0) {
    return absl::InvalidArgumentError("workload certificate TTL must be positive");
  }
  // A zero initial wait would retry a failing CA in a tight loop.
  if (options.backoff.initial.count() <= 0 || options.backoff.max < options.backoff.initial ||
      options.backoff.jitter_fraction < 0 || options.backoff.jitter_fraction >= 1) {
    return absl::InvalidArgumentError(
        "certificate backoff needs 0 < initial <= max and a jitter fraction in [0, 1)");
  }
  std::shared_ptr<const tls::TrustBundle> seed;
  if (!options.trust_bundle_pem.empty()) {
    absl::StatusOr<tls::TrustBundle> bundle = tls::TrustBundle::fromPem(options.trust_bundle_pem);
    if (!bundle.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("trust bundle: ", std::string(bundle.status().message())));
    }
    seed = std::make_shared<const tls::TrustBundle>(std::move(*bundle));
  }
  std::unique_ptr<WorkloadCertificates> out(
      new WorkloadCertificates(std::move(client), std::move(options), std::move(seed)));
  if (out->options_.start_thread) out->thread_ = std::thread([self = out.get()] { self->run(); });
  return out;
}

WorkloadCertificates::WorkloadCertificates(std::shared_ptr<CertificateClient> client,
                                           WorkloadCertificatesOptions options,
                                           std::shared_ptr<const tls::TrustBundle> seed)
    : client_(std::move(client)),
      options_(std::move(options)),
      jitter_(options_.jitter),
      credentials_(std::make_shared<const Credentials>()),
      trust_bundle_(std::move(seed)) {
  if (!jitter_) {
    auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
    jitter_ = [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
  }
  metrics::Registry* registry = options_.registry;
  if (registry == nullptr) {
    own_registry_ = std::make_unique<metrics::Registry>();
    registry = own_registry_.get();
  }
  for (size_t i = 0; i < kFetchResults; ++i) {
    fetches_[i] = &registry->counter("ambit_agent_certificate_fetches_total",
                                     "Workload certificate requests to the mesh CA, by result.",
                                     {{"result", fetchResultLabel(static_cast<FetchResult>(i))}});
  }
  certificates_gauge_ =
      &registry->gauge("ambit_agent_certificates", "Valid workload certificates the agent holds.");
  expiry_gauge_ = &registry->gauge(
      "ambit_agent_certificate_expiry_seconds",
      "Seconds until the first held workload certificate expires; 0 when none is held.");
}

WorkloadCertificates::~WorkloadCertificates() { stop(); }

void WorkloadCertificates::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  client_->shutdown();
  if (thread_.joinable()) thread_.join();
}

bool WorkloadCertificates::stopping() const {
  std::lock_guard lock(mu_);
  return stopping_;
}

void WorkloadCertificates::setIdentities(const std::set<std::string>& identities) {
  std::vector<std::string> added;
  std::vector<std::string> removed;
  {
    std::lock_guard lock(mu_);
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (identities.count(it->first) == 0) {
        removed.push_back(it->first);
        it = entries_.erase(it);
      } else {
        ++it;
      }
    }
    for (const std::string& identity : identities) {
      if (entries_.try_emplace(identity).second) added.push_back(identity);
    }
    if (!removed.empty()) publishLocked(options_.clock());
    if (!added.empty()) changed_ = true;
  }
  for (const std::string& identity : added) logger()->debug("certificate for {}: needed", identity);
  for (const std::string& identity : removed) {
    logger()->info("certificate for {}: no pod on this node needs it any more; forgotten",
                   identity);
  }
  if (!added.empty()) wake_.notify_all();
  if (!removed.empty()) notifyChange();
}

std::shared_ptr<const tls::WorkloadCredential> WorkloadCertificates::get(
    const std::string& identity) const {
  const std::shared_ptr<const Credentials> credentials = credentials_.get();
  auto it = credentials->find(identity);
  if (it == credentials->end()) return nullptr;
  // The thread drops a certificate at expiry, but it may wake a little late; a connection must
  // never be served with an expired one meanwhile.
  if (options_.clock() >= fromTimeT(it->second->not_after)) return nullptr;
  return it->second;
}

std::shared_ptr<const tls::TrustBundle> WorkloadCertificates::trustBundle() const {
  return trust_bundle_.get();
}

CertTime WorkloadCertificates::runDueNow() {
  std::lock_guard work(work_mu_);
  std::vector<std::string> due;
  bool dropped = false;
  {
    std::lock_guard lock(mu_);
    const CertTime now = options_.clock();
    for (auto& [identity, entry] : entries_) {
      CertificateAction action = nextAction(entry.schedule, now);
      if (action.kind == CertificateActionKind::kDrop) {
        logger()->warn(
            "certificate for {}: expired at {} and could not be renewed ({}); connections for it "
            "are refused until a new one arrives",
            identity, formatTime(entry.schedule.not_after), entry.last_error);
        entry.credential.reset();
        entry.schedule.has_certificate = false;
        dropped = true;
        action = nextAction(entry.schedule, now);
      }
      if (action.kind == CertificateActionKind::kFetch) due.push_back(identity);
    }
    if (dropped) publishLocked(now);
  }
  if (dropped) notifyChange();
  for (const std::string& identity : due) {
    if (stopping()) break;
    fetch(identity);
  }

  std::lock_guard lock(mu_);
  const CertTime now = options_.clock();
  CertTime next = CertTime::max();
  for (const auto& [identity, entry] : entries_) {
    next = std::min(next, nextAction(entry.schedule, now).at);
  }
  return next;
}

void WorkloadCertificates::fetch(const std::string& identity) {
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(identity);
    if (it == entries_.end()) return;
    it->second.in_flight = true;
  }
  FetchResult result = FetchResult::kOk;
  std::shared_ptr<const tls::WorkloadCredential> credential;
  std::string root_pem;
  const absl::Status status = [&]() -> absl::Status {
    const std::string prefix = absl::StrCat("certificate for ", identity, ": ");
    absl::StatusOr<tls::SpiffeId> id = tls::SpiffeId::parse(identity);
    if (!id.ok()) return absl::InvalidArgumentError(prefix + std::string(id.status().message()));
    absl::StatusOr<KeyAndCsr> csr = makeWorkloadCsr(*id);
    if (!csr.ok()) return absl::InternalError(prefix + std::string(csr.status().message()));
    absl::StatusOr<std::vector<std::string>> chain =
        client_->createCertificate(csr->csr_pem, identity, options_.ttl);
    if (!chain.ok()) {
      result = classifyFetchError(chain.status());
      return chain.status();
    }
    absl::StatusOr<std::shared_ptr<const tls::WorkloadCredential>> accepted =
        acceptChain(identity, csr->key_pem, *chain, options_.clock());
    if (!accepted.ok()) {
      result = FetchResult::kInvalidResponse;
      return absl::Status(accepted.status().code(),
                          prefix + std::string(accepted.status().message()));
    }
    credential = *std::move(accepted);
    root_pem = chain->back();
    return absl::OkStatus();
  }();
  if (!status.ok() && result == FetchResult::kOk) result = FetchResult::kError;

  if (stopping()) {
    // A call cut short by stop() says nothing about the CA.
    std::lock_guard lock(mu_);
    if (auto it = entries_.find(identity); it != entries_.end()) it->second.in_flight = false;
    return;
  }
  fetches_[static_cast<size_t>(result)]->inc();
  const bool trust_changed = status.ok() && updateTrustBundle(root_pem);
  bool published = false;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(identity);
    // Forgotten while the call was in flight: the answer is not wanted any more.
    if (it != entries_.end())
      published = recordLocked(identity, it->second, status, result, credential);
  }
  if (published || trust_changed) notifyChange();
}

bool WorkloadCertificates::recordLocked(
    const std::string& identity, Entry& entry, const absl::Status& status, FetchResult result,
    const std::shared_ptr<const tls::WorkloadCredential>& credential) {
  entry.in_flight = false;
  const CertTime now = options_.clock();
  if (status.ok()) {
    entry.credential = credential;
    entry.schedule =
        CertificateSchedule{true, fromTimeT(credential->not_before),
                            fromTimeT(credential->not_after), 0, now + options_.backoff.initial};
    entry.last_error.clear();
    publishLocked(now);
    logger()->info("certificate for {}: serial {}, valid until {}, renewal at {}", identity,
                   credential->serial_hex, formatTime(entry.schedule.not_after),
                   formatTime(renewalTime(entry.schedule.not_before, entry.schedule.not_after)));
  } else {
    entry.schedule.failures += 1;
    const milliseconds delay = backoffDelay(entry.schedule.failures, jitter_(), options_.backoff);
    entry.schedule.earliest_fetch = now + delay;
    entry.last_error =
        absl::StrCat(absl::StatusCodeToString(status.code()), ": ", std::string(status.message()));
    const std::string consequence = entry.schedule.has_certificate
                                        ? absl::StrCat("the current certificate serves until ",
                                                       formatTime(entry.schedule.not_after))
                                        : std::string("connections for this identity are refused");
    logger()->warn("{} [{}]; attempt {} failed, next in {:.1f}s; {}", std::string(status.message()),
                   fetchResultLabel(result), entry.schedule.failures,
                   static_cast<double>(delay.count()) / 1000.0, consequence);
  }
  return status.ok();
}

bool WorkloadCertificates::updateTrustBundle(const std::string& root_pem) {
  const std::shared_ptr<const tls::TrustBundle> current = trust_bundle_.get();
  if (current != nullptr) {
    absl::StatusOr<tls::X509Ptr> root = tls::parseCertPem(root_pem, "the CA's root");
    if (!root.ok()) return false;
    for (const tls::X509Ptr& trusted : current->roots()) {
      if (X509_cmp(trusted.get(), root->get()) == 0) return false;
    }
  }
  absl::StatusOr<tls::TrustBundle> bundle = tls::TrustBundle::fromPem(root_pem);
  if (!bundle.ok()) {
    logger()->warn("trust bundle: the CA's root is not usable: {}",
                   std::string(bundle.status().message()));
    return false;
  }
  trust_bundle_.publish(std::make_shared<const tls::TrustBundle>(std::move(*bundle)));
  logger()->info("trust bundle: {} the root of the CA's answers",
                 current == nullptr ? "now" : "replaced by");
  return true;
}

void WorkloadCertificates::publishLocked(CertTime now) {
  auto credentials = std::make_shared<Credentials>();
  for (const auto& [identity, entry] : entries_) {
    if (entry.credential != nullptr) credentials->emplace(identity, entry.credential);
  }
  credentials_.publish(std::move(credentials));
  updateGaugesLocked(now);
}

void WorkloadCertificates::updateGaugesLocked(CertTime now) {
  int64_t held = 0;
  CertTime earliest = CertTime::max();
  for (const auto& [identity, entry] : entries_) {
    if (entry.credential == nullptr || now >= entry.schedule.not_after) continue;
    ++held;
    earliest = std::min(earliest, entry.schedule.not_after);
  }
  certificates_gauge_->set(held);
  expiry_gauge_->set(held == 0 ? 0 : duration_cast<seconds>(earliest - now).count());
}

void WorkloadCertificates::refreshMetrics() {
  std::lock_guard lock(mu_);
  updateGaugesLocked(options_.clock());
}

WorkloadCertificates::Counters WorkloadCertificates::counters() const {
  Counters out;
  for (size_t i = 0; i < kFetchResults; ++i) out.fetches[i] = fetches_[i]->value();
  std::lock_guard lock(mu_);
  const CertTime now = options_.clock();
  CertTime earliest = CertTime::max();
  for (const auto& [identity, entry] : entries_) {
    if (entry.credential == nullptr || now >= entry.schedule.not_after) continue;
    ++out.certificates;
    earliest = std::min(earliest, entry.schedule.not_after);
  }
  if (out.certificates > 0) {
    out.seconds_to_earliest_expiry = duration_cast<seconds>(earliest - now).count();
  }
  return out;
}

void WorkloadCertificates::notifyChange() {
  if (options_.on_change) options_.on_change();
}

std::string WorkloadCertificates::debugJson() const {
  json::Writer w;
  w.beginObject();
  const std::shared_ptr<const tls::TrustBundle> bundle = trust_bundle_.get();
  w.field("trust_bundle_roots", static_cast<int64_t>(bundle ? bundle->roots().size() : 0));
  w.key("certificates").beginArray();
  std::lock_guard lock(mu_);
  const CertTime now = options_.clock();
  for (const auto& [identity, entry] : entries_) {
    const CertificateSchedule& s = entry.schedule;
    w.beginObject();
    w.field("identity", identity);
    w.field("state", stateOf(entry.in_flight, s, now));
    if (entry.credential != nullptr) {
      w.field("serial", entry.credential->serial_hex);
      w.field("not_before", formatTime(s.not_before));
      w.field("not_after", formatTime(s.not_after));
      w.field("renew_at", formatTime(renewalTime(s.not_before, s.not_after)));
    }
    if (s.failures > 0) {
      w.field("failures", s.failures);
      w.field("last_error", entry.last_error);
    }
    const CertificateAction action = nextAction(s, now);
    w.field("next_attempt", action.kind == CertificateActionKind::kWait ? formatTime(action.at)
                                                                        : std::string("now"));
    w.endObject();
  }
  w.endArray();
  w.endObject();
  return w.str();
}

void WorkloadCertificates::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    changed_ = false;
    lock.unlock();
    const CertTime wake = runDueNow();
    lock.lock();
    if (stopping_ || changed_) continue;
    const CertTime now = options_.clock();
    std::chrono::nanoseconds delay = kMaxSleep;
    if (wake < now + kMaxSleep) delay = std::max<std::chrono::nanoseconds>(wake - now, {});
    wake_.wait_for(lock, delay, [this] { return stopping_ || changed_; });
  }
}

}  // namespace ambit::agent
