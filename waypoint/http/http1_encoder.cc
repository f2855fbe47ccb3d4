// The encoder and the helpers around it: hop-by-hop fields, keep-alive, local replies.
#include <utility>  // before Beast: Boost 1.74's Asio needs std::exchange

#include <array>
#include <optional>
#include <string>
#include <vector>

#include <boost/beast/http/status.hpp>

#include "waypoint/http/http1_checks.h"
#include "waypoint/http/http1_codec.h"

namespace ambit::waypoint {
namespace {

// The hop-by-hop fields of RFC 9110 section 7.6.1, with the obsolete Proxy-Connection and
// Keep-Alive that some clients still send.
constexpr std::array<std::string_view, 7> kHopByHop = {
    "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
};

// The field names listed by the Connection fields (which are hop-by-hop too).
std::vector<std::string> connectionOptions(const HttpHeaders& headers) {
  std::vector<std::string> names;
  for (std::string_view value : headers.getAll("connection")) {
    for (std::string_view name : http1::splitList(value)) {
      if (!name.empty()) names.emplace_back(name);
    }
  }
  return names;
}

bool isHopByHop(std::string_view name, const std::vector<std::string>& options) {
  for (std::string_view hop : kHopByHop) {
    if (equalsIgnoreCase(name, hop)) return true;
  }
  for (const std::string& option : options) {
    if (equalsIgnoreCase(name, option)) return true;
  }
  return false;
}

// A value that cannot be written without changing the message's structure (a line end would let
// it inject fields). The decoder never yields one; a field set by the proxy could.
bool isWritableValue(std::string_view value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// Writes the end-to-end fields, leaving out Content-Length (the encoder re-frames the body) and
// fields that are not a valid name and a single-line value.
void writeFields(std::string& out, const HttpHeaders& headers) {
  std::vector<std::string> options = connectionOptions(headers);
  for (const HttpHeader& field : headers) {
    if (isHopByHop(field.name, options) || equalsIgnoreCase(field.name, "content-length")) continue;
    if (!http1::isToken(field.name) || !isWritableValue(field.value)) continue;
    out.append(field.name).append(": ").append(field.value).append("\r\n");
  }
}

void writeContentLength(std::string& out, std::string_view length) {
  out.append("Content-Length: ").append(length).append("\r\n");
}

// The request-target with spaces and control bytes percent-encoded, so that a target set by the
// proxy (a rewrite) cannot break the request line.
void writeTarget(std::string& out, std::string_view target) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : target) {
    auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f) {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xf]);
    } else {
      out.push_back(c);
    }
  }
}

bool isReasonText(std::string_view reason) {
  for (char c : reason) {
    auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7f) return false;
  }
  return true;
}

}  // namespace

std::string encodeRequest(const HttpRequest& request, bool close) {
  std::string out;
  out.reserve(256 + request.body.size());
  out.append(request.method).append(" ");
  writeTarget(out, request.target);
  out.append(" HTTP/1.1\r\n");
  writeFields(out, request.headers);
  bool framed = !request.body.empty() || request.headers.has("content-length") ||
                request.method == "POST" || request.method == "PUT" || request.method == "PATCH";
  if (framed) writeContentLength(out, std::to_string(request.body.size()));
  if (close) out.append("Connection: close\r\n");
  out.append("\r\n");
  out.append(request.body);
  return out;
}

std::string encodeResponse(const HttpResponse& response, bool head_request, bool close) {
  std::string out;
  out.reserve(256 + response.body.size());
  std::string_view reason = response.reason;
  if (reason.empty() || !isReasonText(reason)) reason = reasonPhrase(response.status);
  out.append("HTTP/1.1 ").append(std::to_string(response.status)).append(" ");
  out.append(reason).append("\r\n");
  writeFields(out, response.headers);

  bool informational = response.status / 100 == 1 || response.status == 204;
  bool bodiless = informational || response.status == 304 || head_request;
  if (informational) {
    // Neither a length nor a body.
  } else if (bodiless && response.body.empty()) {
    // The representation's length as upstream gave it (Beast has checked that its values agree).
    if (std::optional<std::string_view> length = response.headers.get("content-length")) {
      std::string_view first = http1::splitList(*length).front();
      if (!first.empty() && first.find_first_not_of("0123456789") == std::string_view::npos) {
        writeContentLength(out, first);
      }
    }
  } else {
    writeContentLength(out, std::to_string(response.body.size()));
  }
  if (close) out.append("Connection: close\r\n");
  out.append("\r\n");
  if (!bodiless) out.append(response.body);
  return out;
}

void removeHopByHopHeaders(HttpHeaders& headers) {
  std::vector<std::string> options = connectionOptions(headers);
  std::erase_if(headers.fields,
                [&](const HttpHeader& field) { return isHopByHop(field.name, options); });
}

bool keepAlive(const HttpRequest& request) {
  if (request.version >= 11) return !http1::listsToken(request.headers, "connection", "close");
  return http1::listsToken(request.headers, "connection", "keep-alive");
}

bool keepAlive(const HttpResponse& response) {
  if (response.version >= 11) return !http1::listsToken(response.headers, "connection", "close");
  return http1::listsToken(response.headers, "connection", "keep-alive");
}

HttpResponse simpleResponse(int status, std::string_view body) {
  HttpResponse response;
  response.status = status;
  response.reason = std::string(reasonPhrase(status));
  response.headers.add("Content-Type", "text/plain");
  response.headers.add("Content-Length", std::to_string(body.size()));
  response.body = std::string(body);
  return response;
}

std::string_view reasonPhrase(int status) {
  auto phrase =
      boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status));
  if (phrase == "<unknown-status>") return "Unknown";
  return std::string_view(phrase.data(), phrase.size());
}

}  // namespace ambit::waypoint
