// Kubernetes' DNS-1123 names (RFC 1123 labels and subdomains in lowercase), which namespaces,
// service accounts and SPIFFE IDs use. In ambit_base, so identity parsing needs no object model.
#pragma once

#include <string>

namespace ambit {

bool isDns1123Label(const std::string& value);      // "my-svc": 1..63 of [a-z0-9-], alnum ends
bool isDns1123Subdomain(const std::string& value);  // "my.svc": labels joined by dots, <= 253

}  // namespace ambit
