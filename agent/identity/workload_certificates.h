// The node agent's workload certificates: one per SPIFFE identity that pods on this node run as,
// obtained from the mesh CA, renewed at half-life, kept through CA outages while still valid and
// dropped at expiry, so a connection is served with a valid certificate or refused (fail closed).
// Connections read certificates without taking a lock; all fetching happens on the manager's own
// thread.
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "agent/identity/certificate_client.h"
#include "agent/identity/credential_source.h"
#include "core/metrics/registry.h"
#include "core/published.h"
#include "core/status.h"
#include "core/tls/trust_bundle.h"
#include "core/tls/workload_credential.h"

namespace ambit::agent {

using CertTime = std::chrono::system_clock::time_point;

// What the scheduler knows of one identity.
struct CertificateSchedule {
  bool has_certificate = false;
  CertTime not_before{};
  CertTime not_after{};
  int failures = 0;         // consecutive failed fetches since the last success
  CertTime earliest_fetch;  // no fetch before this: the backoff after a failure, or a short pause
                            // after a success so a certificate already past half-life cannot spin
};

enum class CertificateActionKind { kWait, kFetch, kDrop };

struct CertificateAction {
  CertificateActionKind kind = CertificateActionKind::kWait;
  CertTime at{};  // kWait: when to look again; otherwise `now`
  bool operator==(const CertificateAction&) const = default;
};

// Half way through the validity period, as Istio's agents renew.
CertTime renewalTime(CertTime not_before, CertTime not_after);

// The one decision for an identity at `now`: drop a certificate that has expired, fetch when none
// is held or the held one is at half-life (or, after failures, when the backoff has passed), or
// wait until the earlier of the next fetch and the expiry.
CertificateAction nextAction(const CertificateSchedule& state, CertTime now);

struct BackoffPolicy {
  std::chrono::milliseconds initial{1000};
  std::chrono::milliseconds max{60000};
  double jitter_fraction = 0.2;  // a wait is shortened by up to this share, so retries spread out
};

// The wait after `failures` (>= 1) consecutive failures: `initial` doubled per failure up to
// `max`, times (1 - jitter_fraction * jitter) for `jitter` in [0, 1]. Never above `max`.
std::chrono::milliseconds backoffDelay(int failures, double jitter, const BackoffPolicy& policy);

// Outcomes of a fetch: the `result` label of ambit_agent_certificate_fetches_total.
enum class FetchResult {
  kOk,
  kDenied,           // PERMISSION_DENIED: the CA refuses this identity to this node
  kUnauthenticated,  // the CA does not accept the agent's token
  kUnavailable,      // the control plane cannot be reached
  kTimeout,          // the call's deadline passed
  kInvalidResponse,  // the CA's answer is not a usable certificate for the identity
  kError,            // anything else
  kCount,            // the number of results, not a result
};
inline constexpr size_t kFetchResults = static_cast<size_t>(FetchResult::kCount);
const char* fetchResultLabel(FetchResult result);
FetchResult classifyFetchError(const absl::Status& status);

struct WorkloadCertificatesOptions {
  std::chrono::seconds ttl = std::chrono::hours(24);  // asked of the CA, which may shorten it
  BackoffPolicy backoff;
  std::function<CertTime()> clock = [] { return std::chrono::system_clock::now(); };
  std::function<double()> jitter;  // values in [0, 1]; empty: a seeded pseudo-random source
  // PEM roots to trust before the first certificate arrives (the agent's --control-ca); optional.
  std::string trust_bundle_pem;
  // Where the series go; empty: a registry of the manager's own (see counters()).
  metrics::Registry* registry = nullptr;
  // Called after a certificate or the trust bundle changed, without locks held, on the thread that
  // made the change (the manager's, or the caller of setIdentities when it drops one).
  std::function<void()> on_change;
  // False: no thread is started and the caller drives the manager with runDueNow().
  bool start_thread = true;
};

// It is the data path's CredentialSource: connections read certificates from it directly.
class WorkloadCertificates final : public CredentialSource {
 public:
  // The client is called from the manager's thread only. Errors: a malformed trust_bundle_pem.
  static absl::StatusOr<std::unique_ptr<WorkloadCertificates>> create(
      std::shared_ptr<CertificateClient> client, WorkloadCertificatesOptions options = {});
  ~WorkloadCertificates() override;
  WorkloadCertificates(const WorkloadCertificates&) = delete;
  WorkloadCertificates& operator=(const WorkloadCertificates&) = delete;

  // The SPIFFE IDs pods on this node need. New ones are fetched at once; ones no longer listed are
  // forgotten with their certificates. Returns at once; thread-safe.
  void setIdentities(const std::set<std::string>& identities);

  // The valid certificate for `identity`, or nullptr when there is none (not fetched yet, refused,
  // or expired): the caller must then refuse the connection. Lock-free while nothing changes.
  std::shared_ptr<const tls::WorkloadCredential> get(const std::string& identity) const;

  // The roots peers' chains must lead to: the root of the CA's latest answer, or the seed given at
  // creation before then; nullptr when neither exists yet.
  std::shared_ptr<const tls::TrustBundle> trustBundle() const override;
  std::shared_ptr<const tls::WorkloadCredential> credential(
      const std::string& identity) const override {
    return get(identity);
  }

  // Does every fetch and drop that is due at the clock's current time on the calling thread, and
  // returns when the next one is due (time_point::max() when nothing is). The manager's thread
  // calls it in a loop; tests without that thread call it after moving their clock.
  CertTime runDueNow();

  // Stops the thread, cancelling a call in flight and any backoff wait, and joins it. Idempotent.
  void stop();

  struct Counters {
    std::array<uint64_t, kFetchResults> fetches{};  // by FetchResult
    int64_t certificates = 0;                       // valid certificates held
    int64_t seconds_to_earliest_expiry = 0;         // 0 when none is held
  };
  Counters counters() const;
  // Brings the time-dependent gauge (seconds to the earliest expiry) up to the clock; call it
  // before rendering the registry.
  void refreshMetrics();

  // Per identity: identity, state (pending / valid / renewing / failing), serial, validity,
  // renewal time, failures and last error, next attempt. Never keys.
  std::string debugJson() const;

 private:
  using Credentials = std::map<std::string, std::shared_ptr<const tls::WorkloadCredential>>;

  struct Entry {
    CertificateSchedule schedule;
    std::shared_ptr<const tls::WorkloadCredential> credential;
    std::string last_error;
    bool in_flight = false;
  };

  WorkloadCertificates(std::shared_ptr<CertificateClient> client,
                       WorkloadCertificatesOptions options,
                       std::shared_ptr<const tls::TrustBundle> seed);
  void run();
  // Obtains a certificate for `identity` and records the outcome. Called without mu_ held.
  void fetch(const std::string& identity);
  // Applies a fetch's outcome to `entry`; true when a new certificate was published.
  bool recordLocked(const std::string& identity, Entry& entry, const absl::Status& status,
                    FetchResult result,
                    const std::shared_ptr<const tls::WorkloadCredential>& credential);
  // Adopts the root of an accepted chain; true when the trust bundle changed.
  bool updateTrustBundle(const std::string& root_pem);
  void publishLocked(CertTime now);
  void updateGaugesLocked(CertTime now);
  void notifyChange();
  bool stopping() const;

  const std::shared_ptr<CertificateClient> client_;
  const WorkloadCertificatesOptions options_;
  std::function<double()> jitter_;
  std::unique_ptr<metrics::Registry> own_registry_;  // when options_.registry is empty
  std::array<metrics::Counter*, kFetchResults> fetches_{};
  metrics::Gauge* certificates_gauge_ = nullptr;
  metrics::Gauge* expiry_gauge_ = nullptr;

  Published<Credentials> credentials_;
  Published<tls::TrustBundle> trust_bundle_;

  std::mutex work_mu_;  // one runDueNow at a time, so an identity is never fetched twice at once
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::map<std::string, Entry> entries_;  // guarded by mu_
  bool changed_ = false;   // guarded by mu_: identities were added since the last run
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace ambit::agent
