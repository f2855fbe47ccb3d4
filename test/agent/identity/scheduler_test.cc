// The certificate manager's decisions as pure functions: what to do for one identity at a given
// time, and how long to wait after failures.
#include <catch2/catch.hpp>

#include "agent/identity/workload_certificates.h"

namespace ambit::agent {
namespace {

using namespace std::chrono_literals;
using Kind = CertificateActionKind;

const CertTime t0 = CertTime(std::chrono::hours(24 * 365 * 50));

CertificateSchedule held(CertTime not_before, CertTime not_after, int failures = 0,
                         CertTime earliest_fetch = {}) {
  return CertificateSchedule{true, not_before, not_after, failures, earliest_fetch};
}
CertificateSchedule none(int failures = 0, CertTime earliest_fetch = {}) {
  return CertificateSchedule{false, {}, {}, failures, earliest_fetch};
}

TEST_CASE("renewal is at half-life") {
  CHECK(renewalTime(t0, t0 + 2h) == t0 + 1h);
  CHECK(renewalTime(t0 - 60s, t0 + 3600s) == t0 + 1770s);
}

TEST_CASE("nextAction table") {
  // A certificate as the CA issues one at t0 for an hour: back-dated a minute, renewal at t0+1770s.
  const CertTime nb = t0 - 60s;
  const CertTime na = t0 + 3600s;
  const CertTime renew = t0 + 1770s;
  struct Case {
    const char* name;
    CertificateSchedule state;
    CertTime now;
    CertificateAction want;
  };
  const std::vector<Case> cases = {
      {"new identity: fetch at once", none(), t0, {Kind::kFetch, t0}},
      {"no certificate, backing off", none(2, t0 + 4s), t0, {Kind::kWait, t0 + 4s}},
      {"no certificate, backoff over", none(2, t0 + 4s), t0 + 4s, {Kind::kFetch, t0 + 4s}},
      {"fresh certificate: wait for half-life", held(nb, na, 0, t0 + 1s), t0, {Kind::kWait, renew}},
      {"a second before half-life", held(nb, na), renew - 1s, {Kind::kWait, renew}},
      {"at half-life: renew", held(nb, na), renew, {Kind::kFetch, renew}},
      {"renewal failed: retry after the backoff",
       held(nb, na, 1, renew + 1s),
       renew,
       {Kind::kWait, renew + 1s}},
      {"renewal failed, backoff over",
       held(nb, na, 3, renew + 7s),
       renew + 7s,
       {Kind::kFetch, renew + 7s}},
      {"backoff outlasts the certificate: wake at expiry",
       held(nb, na, 6, na + 60s),
       na - 10s,
       {Kind::kWait, na}},
      {"at expiry: drop", held(nb, na, 6, na + 60s), na, {Kind::kDrop, na}},
      {"past expiry: drop", held(nb, na), na + 1h, {Kind::kDrop, na + 1h}},
      {"issued already past half-life: a pause, not a spin",
       held(t0 - 1h, t0 + 10s, 0, t0 + 1s),
       t0,
       {Kind::kWait, t0 + 1s}},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      const CertificateAction got = nextAction(c.state, c.now);
      CHECK(static_cast<int>(got.kind) == static_cast<int>(c.want.kind));
      CHECK((got.at - t0).count() == (c.want.at - t0).count());
    }
  }
}

TEST_CASE("backoff doubles from 1s, is capped at 60s and jitter only shortens it") {
  const BackoffPolicy policy;  // 1s, 60s, 20%
  struct Case {
    int failures;
    double jitter;
    int64_t want_ms;
  };
  const std::vector<Case> cases = {
      {0, 0, 0},       {1, 0, 1000},    {2, 0, 2000},     {3, 0, 4000},     {6, 0, 32000},
      {7, 0, 60000},   {8, 0, 60000},   {1000, 0, 60000}, {1, 1, 800},      {7, 1, 48000},
      {7, 0.5, 54000}, {3, 0.25, 3800}, {7, 2.0, 48000},  {7, -1.0, 60000},
  };
  for (const Case& c : cases) {
    INFO("failures " << c.failures << ", jitter " << c.jitter);
    CHECK(backoffDelay(c.failures, c.jitter, policy).count() == c.want_ms);
  }
  const BackoffPolicy custom{std::chrono::milliseconds(100), std::chrono::milliseconds(250), 0};
  CHECK(backoffDelay(2, 0.9, custom).count() == 200);
  CHECK(backoffDelay(3, 0.9, custom).count() == 250);
}

TEST_CASE("fetch errors are classified by status code") {
  struct Case {
    absl::Status status;
    FetchResult want;
    const char* label;
  };
  const std::vector<Case> cases = {
      {absl::OkStatus(), FetchResult::kOk, "ok"},
      {absl::PermissionDeniedError("x"), FetchResult::kDenied, "denied"},
      {absl::UnauthenticatedError("x"), FetchResult::kUnauthenticated, "unauthenticated"},
      {absl::UnavailableError("x"), FetchResult::kUnavailable, "unavailable"},
      {absl::DeadlineExceededError("x"), FetchResult::kTimeout, "timeout"},
      {absl::InvalidArgumentError("x"), FetchResult::kError, "error"},
      {absl::InternalError("x"), FetchResult::kError, "error"},
  };
  for (const Case& c : cases) {
    INFO(c.status.ToString());
    CHECK(classifyFetchError(c.status) == c.want);
    CHECK(std::string(fetchResultLabel(classifyFetchError(c.status))) == c.label);
  }
  CHECK(std::string(fetchResultLabel(FetchResult::kInvalidResponse)) == "invalid_response");
}

}  // namespace
}  // namespace ambit::agent
