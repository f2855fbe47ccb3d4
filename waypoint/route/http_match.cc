#include "waypoint/route/http_match.h"

#include <algorithm>

#include <absl/strings/str_cat.h>
#include <absl/strings/str_join.h>

#include "waypoint/route/text.h"

namespace ambit::waypoint {
namespace {

namespace networking = istio::networking::v1alpha3;
using Matchers = std::vector<std::pair<std::string, StringMatcher>>;

Matchers compileMap(const google::protobuf::Map<std::string, networking::StringMatch>& in,
                    StringMatcher::Options options, std::string_view what, std::string_view where,
                    std::vector<std::string>& notes) {
  Matchers out;
  for (const auto& [name, match] : in) {
    std::string error;
    std::string key = what == "query parameter" ? name : toLower(name);
    out.emplace_back(key, StringMatcher::compile(match, options, &error));
    if (!error.empty())
      notes.push_back(absl::StrCat(av(where), ": ", av(what), " ", key, ": ", error));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

std::optional<StringMatcher> compileOne(const networking::HTTPMatchRequest& match,
                                        bool (networking::HTTPMatchRequest::*has)() const,
                                        const networking::StringMatch& value,
                                        StringMatcher::Options options, std::string_view what,
                                        std::string_view where, std::vector<std::string>& notes) {
  if (!(match.*has)()) return std::nullopt;
  std::string error;
  StringMatcher out = StringMatcher::compile(value, options, &error);
  if (!error.empty()) notes.push_back(absl::StrCat(av(where), ": ", av(what), ": ", error));
  return out;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percentDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      const int high = hexValue(in[i + 1]);
      const int low = hexValue(in[i + 2]);
      if (high >= 0 && low >= 0) {
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
        continue;
      }
    }
    out.push_back(in[i]);
  }
  return out;
}

// The value of header `name` as Envoy's header matchers see it; nullopt when absent.
std::optional<std::string> headerValue(const RequestView& request, std::string_view name) {
  if (name == ":method") return std::string(request.method);
  if (name == ":scheme") return std::string(request.scheme);
  if (name == ":authority") return std::string(request.authority);
  if (name == ":path") return std::string(request.path);
  std::optional<std::string> joined;
  if (request.headers != nullptr) {
    for (const auto& [key, value] : *request.headers) {
      if (key != name) continue;
      if (joined) {
        joined->append(",").append(value);
      } else {
        joined = value;
      }
    }
  }
  if (!joined && name == "host" && !request.authority.empty()) joined = request.authority;
  return joined;
}

std::string quoted(std::string_view value) { return absl::StrCat("\"", av(value), "\""); }

}  // namespace

HttpMatch compileHttpMatch(const networking::HTTPMatchRequest& match, std::string_view where,
                           std::vector<std::string>& notes) {
  using M = networking::HTTPMatchRequest;
  HttpMatch out;
  out.name = match.name();
  const StringMatcher::Options plain;
  out.uri = compileOne(match, &M::has_uri, match.uri(), {.ignore_case = match.ignore_uri_case()},
                       "uri", where, notes);
  out.scheme = compileOne(match, &M::has_scheme, match.scheme(), plain, "scheme", where, notes);
  out.method = compileOne(match, &M::has_method, match.method(), plain, "method", where, notes);
  out.authority =
      compileOne(match, &M::has_authority, match.authority(), plain, "authority", where, notes);
  out.headers = compileMap(match.headers(), plain, "header", where, notes);
  out.without_headers = compileMap(match.without_headers(), {.star_means_present = true},
                                   "withoutHeaders header", where, notes);
  out.query_params = compileMap(match.query_params(), plain, "query parameter", where, notes);
  out.port = match.port();
  for (const auto& [key, value] : match.source_labels()) out.source_labels.emplace_back(key, value);
  std::sort(out.source_labels.begin(), out.source_labels.end());
  out.source_namespace = match.source_namespace();

  const auto& gateways = match.gateways();
  if (!gateways.empty() && std::find(gateways.begin(), gateways.end(), "mesh") == gateways.end()) {
    out.never = absl::StrCat("bound to gateways [", absl::StrJoin(gateways, ", "), "], not mesh");
  }
  for (const auto& [name, matcher] : out.headers) {
    if (name.starts_with("@request.auth.claims")) {
      out.never = absl::StrCat("header ", name, " is a JWT claim, which only gateways match");
    }
  }
  if (!out.never.empty()) notes.push_back(absl::StrCat(av(where), ": never matches: ", out.never));
  return out;
}

bool matchesRequest(const HttpMatch& match, const RequestView& request, std::string* why) {
  // Sets *why (when asked) and reports no match.
  const auto fail = [why](auto&&... parts) {
    if (why != nullptr) *why = absl::StrCat(parts...);
    return false;
  };
  if (!match.never.empty()) return fail(match.never);
  if (match.port != 0 && match.port != request.port) {
    return fail("port ", match.port, " not satisfied");
  }
  if (match.uri && !match.uri->matches(pathOnly(request.path))) {
    return fail("uri ", match.uri->describe(), " not satisfied");
  }
  if (match.method && !match.method->matches(request.method)) {
    return fail("method ", match.method->describe(), " not satisfied");
  }
  if (match.scheme && !match.scheme->matches(request.scheme)) {
    return fail("scheme ", match.scheme->describe(), " not satisfied");
  }
  if (match.authority && !match.authority->matches(request.authority)) {
    return fail("authority ", match.authority->describe(), " not satisfied");
  }
  for (const auto& [name, matcher] : match.headers) {
    const std::optional<std::string> value = headerValue(request, name);
    if (!value) return fail("header ", name, " ", matcher.describe(), " not satisfied (absent)");
    if (!matcher.matches(*value))
      return fail("header ", name, " ", matcher.describe(), " not satisfied");
  }
  for (const auto& [name, matcher] : match.without_headers) {
    const std::optional<std::string> value = headerValue(request, name);
    if (value && matcher.matches(*value)) {
      return fail("withoutHeaders: header ", name, " ", matcher.describe(), " is satisfied");
    }
  }
  for (const auto& [name, matcher] : match.query_params) {
    const std::optional<std::string> value = queryParam(request.path, name);
    if (!value)
      return fail("query parameter ", name, " ", matcher.describe(), " not satisfied (absent)");
    if (!matcher.matches(*value)) {
      return fail("query parameter ", name, " ", matcher.describe(), " not satisfied");
    }
  }
  if (!match.source_namespace.empty() && match.source_namespace != request.source_namespace) {
    return fail("sourceNamespace ", quoted(match.source_namespace), " not satisfied");
  }
  for (const auto& [key, value] : match.source_labels) {
    const auto* labels = request.source_labels;
    const bool equal = labels != nullptr && labels->count(key) > 0 && labels->at(key) == value;
    if (!equal) return fail("sourceLabels ", key, "=", quoted(value), " not satisfied");
  }
  return true;
}

std::string_view pathOnly(std::string_view path) {
  const size_t query = path.find('?');
  return query == std::string_view::npos ? path : path.substr(0, query);
}

std::optional<std::string> queryParam(std::string_view path, std::string_view name) {
  const size_t start = path.find('?');
  if (start == std::string_view::npos) return std::nullopt;
  std::string_view query = path.substr(start + 1);
  const size_t fragment = query.find('#');
  if (fragment != std::string_view::npos) query = query.substr(0, fragment);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    if (key.empty() || percentDecode(key) != name) continue;
    return eq == std::string_view::npos ? std::string() : percentDecode(pair.substr(eq + 1));
  }
  return std::nullopt;
}

}  // namespace ambit::waypoint
