// Counters of issued and refused certificates, by refusal reason; the metrics endpoint reads them.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace ambit::control::ca {

struct CaMetrics {
  enum class Refusal {
    kUnauthenticated,  // no token or an unknown one
    kInvalidCsr,       // malformed, too large, wrong key type, bad self-signature
    kInvalidIdentity,  // no, several, disagreeing or malformed SPIFFE IDs requested
    kTrustDomain,      // an identity of another trust domain
    kForeignIdentity,  // an identity the caller may not hold
    kInternal,         // the CA itself failed
  };
  static constexpr size_t kRefusalCount = 6;

  static constexpr const char* label(Refusal reason) {
    constexpr std::array<const char*, kRefusalCount> kLabels = {"unauthenticated",  "invalid_csr",
                                                                "invalid_identity", "trust_domain",
                                                                "foreign_identity", "internal"};
    return kLabels[static_cast<size_t>(reason)];
  }

  void countSigned() { signed_total.fetch_add(1, std::memory_order_relaxed); }
  void countRefusal(Refusal reason) {
    refused_total[static_cast<size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
  }
  uint64_t signedCount() const { return signed_total.load(std::memory_order_relaxed); }
  uint64_t refusedCount(Refusal reason) const {
    return refused_total[static_cast<size_t>(reason)].load(std::memory_order_relaxed);
  }

  std::atomic<uint64_t> signed_total{0};
  std::array<std::atomic<uint64_t>, kRefusalCount> refused_total{};
};

}  // namespace ambit::control::ca
