// The checks the HTTP/1.1 decoders make on a parsed header beyond what Boost.Beast's parser
// enforces itself (field syntax, each Content-Length value, chunked framing), and the list
// helpers they share with the encoder. Internal to waypoint/http.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "waypoint/http/http_message.h"

namespace ambit::waypoint::http1 {

// Why a message is refused: the status to answer with and what was wrong.
struct Refusal {
  int status;
  std::string reason;
};

// RFC 9110 token: one or more of ALPHA, DIGIT and !#$%&'*+-.^_`|~.
bool isToken(std::string_view s);

// Splits a comma-separated field value into its elements, each trimmed of spaces and tabs. Empty
// elements are kept (as empty views) so that a strict caller can refuse them.
std::vector<std::string_view> splitList(std::string_view value);

// Whether any field named `name` lists `token` (compared without case).
bool listsToken(const HttpHeaders& headers, std::string_view name, std::string_view token);

// Checks the framing fields of a message of `version` (10 or 11): Transfer-Encoding must be a
// list of tokens ending in one `chunked`, preceded by nothing (other codings: 501), and may
// appear neither with Content-Length nor in HTTP/1.0.
std::optional<Refusal> checkFraming(const HttpHeaders& headers, int version);

// Checks a request's method, Host fields and target, and rewrites an absolute-form target to
// origin-form with its authority as the Host (see http1_codec.h).
std::optional<Refusal> checkRequestHead(HttpRequest& request);

}  // namespace ambit::waypoint::http1
