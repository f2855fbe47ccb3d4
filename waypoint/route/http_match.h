// One HTTPMatchRequest compiled, and its evaluation against a request, with Istio's (Envoy's)
// semantics: every field a match sets must hold.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "istio/networking/v1alpha3/virtual_service.pb.h"
#include "waypoint/route/string_match.h"

namespace ambit::waypoint {

// What route matching sees of an HTTP request. Views only: the caller keeps the request alive.
struct RequestView {
  std::string_view method;     // "GET"
  std::string_view scheme;     // "http"
  std::string_view authority;  // the :authority or Host header, "echo.demo:8080"
  std::string_view path;       // the request target with its query, "/api/v2/items?id=7"
  // Every header but the pseudo-headers, names in lower case, in arrival order; may be null.
  const std::vector<std::pair<std::string, std::string>>* headers = nullptr;
  uint16_t port = 0;  // the destination port the client asked for
  // The calling workload, as the HBONE peer identity and the workload index give it.
  std::string_view source_namespace;
  const std::map<std::string, std::string>* source_labels = nullptr;  // may be null: no labels
};

// A compiled HTTPMatchRequest.
struct HttpMatch {
  std::string name;
  std::optional<StringMatcher> uri, scheme, method, authority;
  // Names in lower case, in name order (the proto maps have none).
  std::vector<std::pair<std::string, StringMatcher>> headers;
  std::vector<std::pair<std::string, StringMatcher>> without_headers;
  std::vector<std::pair<std::string, StringMatcher>> query_params;
  uint32_t port = 0;  // 0: any
  std::vector<std::pair<std::string, std::string>> source_labels;
  std::string source_namespace;
  // Set when this match can never hold here, and why ("bound to gateways [...], not mesh").
  std::string never;
};

// Compiles `match`; problems worth a log line (regexes that do not compile, JWT claims a waypoint
// cannot see) are appended to `notes`, prefixed with `where`.
HttpMatch compileHttpMatch(const istio::networking::v1alpha3::HTTPMatchRequest& match,
                           std::string_view where, std::vector<std::string>& notes);

// Whether `request` satisfies `match`: the URI against the path without its query; headers against
// all values of that name joined by "," (as Envoy does; a single value as is), the pseudo-headers
// ":method", ":scheme", ":authority" and ":path" against the request's, "host" against the
// authority when no Host header is listed; a header without a match type only needs to be present.
// withoutHeaders holds when none of its entries matches (so an absent header satisfies it).
// queryParams against the first value of each name, percent-decoded. sourceLabels holds when every
// label is equal in the caller's labels; sourceNamespace when equal to the caller's namespace.
// When it does not hold and `why` is not null, `*why` says which field failed first, e.g.
// `header user-agent prefix "Mozilla" not satisfied`.
bool matchesRequest(const HttpMatch& match, const RequestView& request, std::string* why);

// The path without its query string.
std::string_view pathOnly(std::string_view path);

// The first value of query parameter `name` in `path`, percent-decoded; nullopt when absent.
std::optional<std::string> queryParam(std::string_view path, std::string_view name);

}  // namespace ambit::waypoint
