// Whether an attempt's outcome is retried under a route's retry policy, with Envoy's meaning of
// each retryOn condition:
//   5xx             any 5xx response, a connect failure, a reset, a per-try timeout, a response
//                   that does not parse
//   gateway-error   a 502, 503 or 504 response, and the failures above that Envoy answers with one
//   reset           a reset or a per-try timeout (no response at all)
//   connect-failure no tunnel could be opened to the endpoint
//   refused-stream  the endpoint's agent refused the stream (counted as a connect failure here)
//   retriable-4xx   a 409 response
//   retriable-status-codes  a response whose status is in the policy's list
// "unavailable", "cancelled" and the other gRPC conditions never match an HTTP/1.1 response.
#pragma once

#include <string_view>

#include "waypoint/proxy/upstream_call.h"
#include "waypoint/route/route_config.h"

namespace ambit::waypoint {

bool shouldRetry(const RetryPolicy& policy, const AttemptResult& attempt);

// The status a failed attempt is answered with, and its response flag: 503 UF for a connect
// failure, 503 UC for a reset, 504 UT for a timeout, 503 UC for a response that does not parse.
struct FailureReply {
  int status = 503;
  std::string_view flag;
};
FailureReply failureReply(AttemptResult::Outcome outcome);

}  // namespace ambit::waypoint
