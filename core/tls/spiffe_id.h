// SPIFFE IDs as Ambit issues them: spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>,
// parsed strictly so that an identity is spelled one way only.
#pragma once

#include <string>

#include "core/status.h"

namespace ambit::tls {

struct SpiffeId {
  std::string trust_domain;     // "cluster.local"
  std::string ns;               // a DNS-1123 label
  std::string service_account;  // a DNS-1123 subdomain

  // Errors are InvalidArgumentError naming the part that is wrong.
  static absl::StatusOr<SpiffeId> parse(const std::string& uri);
  std::string toString() const;
  // Istio's principal form, "<trust-domain>/ns/<ns>/sa/<account>", which policies compare.
  std::string principal() const;

  bool operator==(const SpiffeId&) const = default;
};

// A SPIFFE trust domain: 1 to 255 of lowercase letters, digits, '.', '-' and '_'.
bool isTrustDomain(const std::string& value);

}  // namespace ambit::tls
