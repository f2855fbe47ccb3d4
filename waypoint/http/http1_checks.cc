#include "waypoint/http/http1_checks.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace ambit::waypoint::http1 {
namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// RFC 3986 reg-name and IPv4 characters: unreserved, pct-encoded and sub-delims.
bool isRegNameChar(char c) {
  return isAlpha(c) || isDigit(c) ||
         std::string_view("-._~%!$&'()*+,;=").find(c) != std::string_view::npos;
}

// RFC 3986 authority without userinfo: host [ ":" port ], the host a reg-name, an IPv4 address
// or a bracketed IP literal. Empty hosts are refused: the mesh routes by this name.
bool isValidAuthority(std::string_view authority) {
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    std::string_view literal = authority.substr(1, close - 1);
    if (!std::all_of(literal.begin(), literal.end(), [](char c) {
          return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
        })) {
      return false;
    }
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
    }
    return std::all_of(port.begin(), port.end(), isDigit);
  }
  if (std::size_t colon = authority.find(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  return !host.empty() && std::all_of(host.begin(), host.end(), isRegNameChar) &&
         std::all_of(port.begin(), port.end(), isDigit);
}

// The authority without the scheme's default port, which names the same origin.
std::string_view withoutDefaultPort(std::string_view authority, bool https) {
  std::string_view suffix = https ? ":443" : ":80";
  if (authority.size() > suffix.size() && authority.ends_with(suffix)) {
    authority.remove_suffix(suffix.size());
  }
  return authority;
}

// Rewrites an absolute-form target ("http://host:port/path?query") to origin-form, checking its
// authority against the Host field (or supplying the Host when the request has none).
std::optional<Refusal> normalizeAbsoluteForm(HttpRequest& request, std::string_view after_scheme,
                                             bool https) {
  std::size_t path_start = after_scheme.find_first_of("/?");
  std::string_view authority = after_scheme.substr(0, path_start);
  std::string_view path =
      path_start == std::string_view::npos ? std::string_view() : after_scheme.substr(path_start);
  if (!isValidAuthority(authority)) {
    return Refusal{400, "invalid authority in the request target"};
  }
  if (std::optional<std::string_view> host = request.headers.get("host")) {
    if (!equalsIgnoreCase(withoutDefaultPort(*host, https), withoutDefaultPort(authority, https))) {
      return Refusal{400, "the request target names another host than the Host field"};
    }
  } else {
    request.headers.add("Host", authority);
  }
  std::string target = path.empty() || path.front() == '?' ? "/" : "";
  target.append(path);
  request.target = std::move(target);
  return std::nullopt;
}

}  // namespace

bool isToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return isAlpha(c) || isDigit(c) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

std::vector<std::string_view> splitList(std::string_view value) {
  std::vector<std::string_view> elements;
  while (true) {
    std::size_t comma = value.find(',');
    std::string_view element = value.substr(0, comma);
    while (!element.empty() && (element.front() == ' ' || element.front() == '\t')) {
      element.remove_prefix(1);
    }
    while (!element.empty() && (element.back() == ' ' || element.back() == '\t')) {
      element.remove_suffix(1);
    }
    elements.push_back(element);
    if (comma == std::string_view::npos) return elements;
    value.remove_prefix(comma + 1);
  }
}

bool listsToken(const HttpHeaders& headers, std::string_view name, std::string_view token) {
  for (std::string_view value : headers.getAll(name)) {
    for (std::string_view element : splitList(value)) {
      if (equalsIgnoreCase(element, token)) return true;
    }
  }
  return false;
}

std::optional<Refusal> checkFraming(const HttpHeaders& headers, int version) {
  std::vector<std::string_view> values = headers.getAll("transfer-encoding");
  if (values.empty()) return std::nullopt;  // Beast has checked that Content-Lengths agree
  if (headers.has("content-length")) {
    return Refusal{400, "both Content-Length and Transfer-Encoding"};
  }
  if (version < 11) return Refusal{400, "Transfer-Encoding in an HTTP/1.0 message"};
  std::vector<std::string_view> codings;
  for (std::string_view value : values) {
    for (std::string_view coding : splitList(value)) {
      if (!isToken(coding)) return Refusal{400, "malformed Transfer-Encoding"};
      codings.push_back(coding);
    }
  }
  if (!equalsIgnoreCase(codings.back(), "chunked")) {
    return Refusal{400, "chunked is not the final transfer coding"};
  }
  codings.pop_back();
  for (std::string_view coding : codings) {
    if (equalsIgnoreCase(coding, "chunked")) {
      return Refusal{400, "chunked transfer coding applied twice"};
    }
  }
  if (!codings.empty()) {
    return Refusal{501, "unsupported transfer coding: " + std::string(codings.front())};
  }
  return std::nullopt;
}

std::optional<Refusal> checkRequestHead(HttpRequest& request) {
  if (request.method == "CONNECT") return Refusal{501, "CONNECT is not supported"};
  std::vector<std::string_view> hosts = request.headers.getAll("host");
  if (hosts.size() > 1) return Refusal{400, "several Host fields"};
  if (hosts.empty() && request.version >= 11) return Refusal{400, "HTTP/1.1 request without Host"};
  if (hosts.size() == 1 && !isValidAuthority(hosts.front())) return Refusal{400, "invalid Host"};

  std::string_view target = request.target;
  if (target.find('#') != std::string_view::npos) {
    return Refusal{400, "fragment in the request target"};
  }
  if (target.front() == '/') return std::nullopt;
  if (target == "*") {
    if (request.method == "OPTIONS") return std::nullopt;
    return Refusal{400, "asterisk-form target on a method other than OPTIONS"};
  }
  std::size_t scheme_end = target.find("://");
  if (scheme_end != std::string_view::npos) {
    std::string_view scheme = target.substr(0, scheme_end);
    bool https = equalsIgnoreCase(scheme, "https");
    if (https || equalsIgnoreCase(scheme, "http")) {
      return normalizeAbsoluteForm(request, target.substr(scheme_end + 3), https);
    }
  }
  return Refusal{400, "malformed request target"};
}

}  // namespace ambit::waypoint::http1
