// What AuthorizationPolicy evaluation sees of an HTTP request at the waypoint, and what it derives
// from that once per request.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "waypoint/authz/l7_values.h"
#include "waypoint/authz/request_auth.h"

namespace ambit::waypoint {

// Views only: the caller keeps the request alive while it is evaluated.
struct L7RequestAttributes {
  std::string_view method;        // "GET"
  std::string_view host;          // :authority or Host as sent, may carry ":port"
  std::string_view path;          // the normalized target, may carry "?query"
  uint16_t destination_port = 0;  // the port the client called (the service port)
  // Every header but the pseudo-headers, names in lower case; may be null.
  const std::vector<std::pair<std::string, std::string>>* headers = nullptr;
  // The peer identity, "cluster.local/ns/foo/sa/bar"; absent for plaintext.
  std::optional<std::string_view> source_principal;
  std::string_view source_namespace;
  // Textual IPv4 or IPv6 of the calling workload; empty when not known for sure, which makes
  // every address rule on it unknown (fail closed).
  std::string_view source_ip;
  std::string_view remote_ip;         // the original client IP; empty means source_ip
  std::string_view destination_ip;    // textual
  std::string_view sni;               // connection.sni, empty when none
  const RequestAuth* auth = nullptr;  // the validated JWT; null when the request carries none
  // False for a stream carried as TCP: the HTTP attributes (hosts, methods, paths, headers,
  // requestPrincipals, request.auth.*) cannot be seen, so a clause that needs them is unknown and
  // fails closed (Istio drops such rules from ALLOW policies and widens DENY ones for TCP).
  bool http = true;
};

// What evaluation derives from the attributes, once per request and without allocating. Views
// into the attributes, which must outlive it.
struct L7RequestFacts {
  explicit L7RequestFacts(const L7RequestAttributes& attributes);

  const L7RequestAttributes& request;
  std::string_view path;                                          // without the query
  std::optional<IpAddress> source_ip, remote_ip, destination_ip;  // nullopt when malformed
  // Whether the peer has an identity (mTLS); the identity-derived fields below need one.
  bool has_identity = false;
  // Parts of an identity of the form "<trust domain>/ns/<namespace>/sa/<account>"; empty for
  // another form.
  std::string_view trust_domain, identity_namespace, service_account;
  // What namespaces and source.namespace compare: source_namespace, else the identity's namespace;
  // empty without an identity (Istio takes it from the peer certificate).
  std::string_view peer_namespace;
};

}  // namespace ambit::waypoint
