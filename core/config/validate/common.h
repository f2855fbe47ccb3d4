// Rules shared by the validators of several kinds: names, hosts, ports, durations, percentages,
// regexes, string matches, labels, selectors and the match forms of authorization policies.
// Each check* function reports what it finds into `issues` at `path`.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <google/protobuf/duration.pb.h>
#include <google/protobuf/map.h>

#include "core/config/validate/issues.h"
#include "core/dns_names.h"
#include "istio/networking/v1alpha3/virtual_service.pb.h"
#include "istio/type/v1beta1/selector.pb.h"

namespace ambit::config::validate {

// ---- Field paths, written as the loader writes them ("spec.http[0].match[1].headers.x-user").
std::string field(const std::string& path, const char* name);
std::string item(const std::string& path, size_t index);
std::string key(const std::string& path, const std::string& map_key);

// A value quoted for a message: "a(b", with quotes and control characters escaped.
std::string q(const std::string& value);

// A map's keys in order, so findings come out in a stable order.
template <class Map>
std::vector<typename Map::key_type> sortedKeys(const Map& map) {
  std::vector<typename Map::key_type> keys;
  keys.reserve(map.size());
  for (const auto& entry : map) keys.push_back(entry.first);
  std::sort(keys.begin(), keys.end());
  return keys;
}

// ---- Names.
using ambit::isDns1123Label;                    // core/dns_names.h
using ambit::isDns1123Subdomain;                // core/dns_names.h
bool isDns1035Label(const std::string& value);  // a DNS-1123 label starting with a letter
// Istio's DNS label (subset, port and gateway names): as DNS-1123, with letters of either case.
bool isIstioDnsLabel(const std::string& value);
bool isIanaServiceName(const std::string& value);  // a named port: "http-web", <= 15
bool isIpAddress(const std::string& value);        // IPv4 or IPv6
bool isCidr(const std::string& value);             // "10.0.0.0/8", "2001:db8::/32"
bool isIpOrCidr(const std::string& value);
bool isHttpHeaderName(const std::string& value);  // an RFC 7230 token
bool isWildcarded(const std::string& host);       // starts with "*"

// Istio's port protocols, case-insensitive: the lowercase name ("http", "grpc-web"), or "" when
// Istio does not know the protocol.
std::string protocolName(const std::string& protocol);
bool isHttpProtocol(const std::string& name);  // http, http2, http_proxy, grpc, grpc-web
bool isTlsProtocol(const std::string& name);   // https, tls

// Why `name` is not a valid DNS name, or "" when it is. With `wildcard`, the first label may be
// "*" or start with "*" ("*.example.com", "*-svc.example.com"), as Istio allows.
std::string dnsNameProblem(const std::string& name, bool wildcard);

// Istio's host name matching: "*.example.com" matches "a.example.com" and "*.a.example.com".
bool hostsOverlap(const std::string& a, const std::string& b);
// True when every host matched by `a` is matched by `b`.
bool hostSubsetOf(const std::string& a, const std::string& b);

// A host of a route or policy: a short name, an FQDN, or a wildcard ("*.example.com", "*").
// `what` names it in messages ("host", "destination host").
void checkHost(Issues& issues, const std::string& path, const std::string& host,
               const char* what = "host");

// ---- Numbers.
void checkPort(Issues& issues, const std::string& path, int64_t port, const char* what = "port");
void checkPercent(Issues& issues, const std::string& path, double value,
                  const char* what = "percentage");
void checkIntPercent(Issues& issues, const std::string& path, int64_t value, const char* what);

// A duration Istio accepts for timeouts and intervals: at least 1ms, in whole milliseconds.
void checkDuration(Issues& issues, const std::string& path, const google::protobuf::Duration& d,
                   const char* what);
int64_t durationNanos(const google::protobuf::Duration& d);  // saturating

// ---- Regexes and string matches.
// An RE2 regex of at most 1024 characters that compiles.
void checkRegex(Issues& issues, const std::string& path, const std::string& regex);

enum class StringMatchUse {
  kUri,            // uri: an empty prefix matches everything and is allowed
  kStrict,         // scheme, method, authority: every form must be non-empty
  kHeader,         // headers, queryParams: no match type means "present"
  kWithoutHeader,  // withoutHeaders: as kHeader, and regex "*" means "present"
  kCorsOrigin,     // corsPolicy.allowOrigins: a non-empty value is required
};
void checkStringMatch(Issues& issues, const std::string& path,
                      const istio::networking::v1alpha3::StringMatch& match, StringMatchUse use);

// ---- Labels and selectors.
using StringMap = google::protobuf::Map<std::string, std::string>;
// Kubernetes label keys ([prefix/]name) and values.
void checkLabels(Issues& issues, const std::string& path, const StringMap& labels);
// An Istio workload selector: valid labels without wildcards; empty selects everything (warning).
void checkWorkloadSelector(Issues& issues, const std::string& path, const StringMap& labels);
void checkTargetRef(Issues& issues, const std::string& path,
                    const istio::type::v1beta1::PolicyTargetReference& ref);
// selector, targetRef and targetRefs are mutually exclusive (paths are relative to "spec").
template <class Spec>
void checkPolicyTargets(Issues& issues, const Spec& spec);

// ---- Istio's shared list fields.
// exportTo entries: ".", "*", "~" (service entries only) or a namespace; no duplicates.
void checkExportTo(Issues& issues, const std::string& path,
                   const google::protobuf::RepeatedPtrField<std::string>& export_to,
                   bool service_entry);

// A value of an authorization policy or Istio match list: exact, "prefix*", "*suffix" or "*".
// `what` names one value in messages ("principal", "namespace").
void checkMatchValue(Issues& issues, const std::string& path, const std::string& value,
                     const char* what);

// ---- Template definitions.
template <class Spec>
void checkPolicyTargets(Issues& issues, const Spec& spec) {
  const bool selector = spec.has_selector();
  const bool target_ref = spec.has_targetref();
  const bool target_refs = spec.targetrefs_size() > 0;
  if (selector) {
    checkWorkloadSelector(issues, "spec.selector.matchLabels", spec.selector().match_labels());
  }
  if (target_ref) checkTargetRef(issues, "spec.targetRef", spec.targetref());
  for (int i = 0; i < spec.targetrefs_size(); ++i) {
    checkTargetRef(issues, item("spec.targetRefs", static_cast<size_t>(i)), spec.targetrefs(i));
  }
  if (static_cast<int>(selector) + static_cast<int>(target_ref) + static_cast<int>(target_refs) >
      1) {
    issues.error(target_refs ? "spec.targetRefs" : "spec.targetRef",
                 "only one of selector, targetRef and targetRefs may be set");
  }
}

}  // namespace ambit::config::validate
