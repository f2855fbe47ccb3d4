// HTTP route policies: CORS, fault injection, mirroring and retries.
#include <string>
#include <vector>

#include <absl/strings/ascii.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/str_split.h>

#include "core/config/validate/common.h"
#include "core/config/validate/kinds.h"
#include "core/config/validate/route.h"

namespace ambit::config::validate {

namespace net = istio::networking::v1alpha3;

void checkCors(const net::CorsPolicy& cors, const std::string& path, Issues& issues) {
  static const char* const kMethods[] = {"GET",    "HEAD",    "POST",    "PUT",   "PATCH",
                                         "DELETE", "CONNECT", "OPTIONS", "TRACE", "*"};
  for (int i = 0; i < cors.allow_origins_size(); ++i) {
    checkStringMatch(issues, item(field(path, "allowOrigins"), static_cast<size_t>(i)),
                     cors.allow_origins(i), StringMatchUse::kCorsOrigin);
  }
  for (int i = 0; i < cors.allow_methods_size(); ++i) {
    const std::string& method = cors.allow_methods(i);
    bool known = false;
    for (const char* m : kMethods) known = known || method == m;
    if (!known) {
      issues.error(item(field(path, "allowMethods"), static_cast<size_t>(i)),
                   absl::StrCat("method ", q(method), " is not a supported HTTP method"));
    }
  }
  for (const char* name : {"allowHeaders", "exposeHeaders"}) {
    const auto& list = name[0] == 'a' ? cors.allow_headers() : cors.expose_headers();
    for (int i = 0; i < list.size(); ++i) {
      const std::string at = item(field(path, name), static_cast<size_t>(i));
      if (list[i].empty()) {
        issues.error(at, "header name must not be empty");
      } else if (list[i] != "*" && !isHttpHeaderName(list[i])) {
        issues.error(at,
                     absl::StrCat("header name ", q(list[i]), " is not a valid HTTP header name"));
      }
    }
  }
  if (cors.has_max_age()) {
    checkDuration(issues, field(path, "maxAge"), cors.max_age(), "maxAge");
    if (cors.max_age().nanos() > 0 && durationNanos(cors.max_age()) >= 1000000) {
      issues.error(field(path, "maxAge"), "maxAge must be a whole number of seconds");
    }
  }
}

void checkFault(const net::HTTPFaultInjection& fault, const std::string& path, Issues& issues) {
  static const char* const kGrpcStatuses[] = {"OK",
                                              "CANCELLED",
                                              "UNKNOWN",
                                              "INVALID_ARGUMENT",
                                              "DEADLINE_EXCEEDED",
                                              "NOT_FOUND",
                                              "ALREADY_EXISTS",
                                              "PERMISSION_DENIED",
                                              "RESOURCE_EXHAUSTED",
                                              "FAILED_PRECONDITION",
                                              "ABORTED",
                                              "OUT_OF_RANGE",
                                              "UNIMPLEMENTED",
                                              "INTERNAL",
                                              "UNAVAILABLE",
                                              "DATA_LOSS",
                                              "UNAUTHENTICATED"};
  if (!fault.has_delay() && !fault.has_abort()) {
    issues.error(path, "fault needs a delay, an abort or both");
  }
  if (fault.has_abort()) {
    const auto& abort = fault.abort();
    const std::string ap = field(path, "abort");
    if (abort.has_percentage()) {
      checkPercent(issues, field(field(ap, "percentage"), "value"), abort.percentage().value());
    }
    switch (abort.error_type_case()) {
      case net::HTTPFaultInjection::Abort::kHttpStatus:
        if (abort.http_status() < 200 || abort.http_status() > 599) {
          issues.error(field(ap, "httpStatus"), absl::StrCat("httpStatus must be between 200 and "
                                                             "599, got ",
                                                             abort.http_status()));
        }
        break;
      case net::HTTPFaultInjection::Abort::kGrpcStatus: {
        bool known = false;
        for (const char* s : kGrpcStatuses) known = known || abort.grpc_status() == s;
        if (!known) {
          issues.error(field(ap, "grpcStatus"),
                       absl::StrCat("grpcStatus ", q(abort.grpc_status()),
                                    " is not a gRPC status name such as UNAVAILABLE or NOT_FOUND"));
        }
        break;
      }
      case net::HTTPFaultInjection::Abort::kHttp2Error:
        issues.error(field(ap, "http2Error"), "http2Error aborts are not supported");
        break;
      case net::HTTPFaultInjection::Abort::ERROR_TYPE_NOT_SET:
        issues.error(ap, "abort needs httpStatus or grpcStatus");
        break;
    }
  }
  if (fault.has_delay()) {
    const auto& delay = fault.delay();
    const std::string dp = field(path, "delay");
    if (delay.has_percentage()) {
      checkPercent(issues, field(field(dp, "percentage"), "value"), delay.percentage().value());
    }
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    checkIntPercent(issues, field(dp, "percent"), delay.percent(), "percent");
#pragma GCC diagnostic pop
    switch (delay.http_delay_type_case()) {
      case net::HTTPFaultInjection::Delay::kFixedDelay:
        checkDuration(issues, field(dp, "fixedDelay"), delay.fixed_delay(), "fixedDelay");
        break;
      case net::HTTPFaultInjection::Delay::kExponentialDelay:
        issues.error(field(dp, "exponentialDelay"), "exponentialDelay is not supported");
        break;
      case net::HTTPFaultInjection::Delay::HTTP_DELAY_TYPE_NOT_SET:
        issues.error(dp, "delay needs fixedDelay");
        break;
    }
  }
}

void checkMirrors(const net::HTTPRoute& route, const std::string& path, Issues& issues) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  if (route.has_mirror_percent()) {
    if (route.mirror_percent().value() > 100) {
      issues.error(field(path, "mirrorPercent"),
                   absl::StrCat("mirrorPercent must be between 0 and 100, got ",
                                route.mirror_percent().value()));
    }
    issues.warning(field(path, "mirrorPercent"),
                   "mirrorPercent is deprecated; use "
                   "mirrorPercentage");
  }
#pragma GCC diagnostic pop
  const auto checkMirrorPercent = [&](const net::Percent& p, const std::string& at) {
    if (p.value() < 0 || p.value() > 100) {
      issues.error(at,
                   absl::StrCat("mirror percentage must be between 0 and 100, got ", p.value()));
    }
  };
  if (route.has_mirror_percentage()) {
    checkMirrorPercent(route.mirror_percentage(), field(field(path, "mirrorPercentage"), "value"));
  }
  if (route.has_mirror()) checkDestination(route.mirror(), field(path, "mirror"), issues);
  for (int i = 0; i < route.mirrors_size(); ++i) {
    const std::string mp = item(field(path, "mirrors"), static_cast<size_t>(i));
    if (!route.mirrors(i).has_destination()) {
      issues.error(field(mp, "destination"), "destination is required");
    } else {
      checkDestination(route.mirrors(i).destination(), field(mp, "destination"), issues);
    }
    if (route.mirrors(i).has_percentage()) {
      checkMirrorPercent(route.mirrors(i).percentage(), field(field(mp, "percentage"), "value"));
    }
  }
}

void validateHttpRetry(const net::HTTPRetry& retry, const std::string& path, Issues& issues) {
  static const char* const kPolicies[] = {"5xx",
                                          "gateway-error",
                                          "reset",
                                          "reset-before-request",
                                          "connect-failure",
                                          "envoy-ratelimited",
                                          "retriable-4xx",
                                          "refused-stream",
                                          "retriable-status-codes",
                                          "retriable-headers",
                                          "http3-post-connect-failure",
                                          "cancelled",
                                          "deadline-exceeded",
                                          "internal",
                                          "resource-exhausted",
                                          "unavailable"};
  if (retry.attempts() < 0) {
    issues.error(field(path, "attempts"),
                 absl::StrCat("attempts must not be negative, got ", retry.attempts()));
  } else if (retry.attempts() == 0 && (retry.has_per_try_timeout() || !retry.retry_on().empty() ||
                                       retry.has_retry_remote_localities())) {
    issues.error(field(path, "attempts"),
                 "attempts is 0, which disables retries, yet perTryTimeout, retryOn or "
                 "retryRemoteLocalities is set");
  }
  if (retry.has_per_try_timeout()) {
    checkDuration(issues, field(path, "perTryTimeout"), retry.per_try_timeout(), "perTryTimeout");
  }
  if (!retry.retry_on().empty()) {
    for (const std::string& policy :
         std::vector<std::string>(absl::StrSplit(retry.retry_on(), ','))) {
      bool known = false;
      for (const char* p : kPolicies) known = known || policy == p;
      const bool status = policy.size() == 3 && policy[0] >= '1' && policy[0] <= '5' &&
                          absl::ascii_isdigit(static_cast<unsigned char>(policy[1])) &&
                          absl::ascii_isdigit(static_cast<unsigned char>(policy[2]));
      if (!known && !status) {
        issues.error(field(path, "retryOn"),
                     absl::StrCat("retryOn policy ", q(policy),
                                  " is unknown; expected an HTTP status code or one of 5xx, "
                                  "gateway-error, reset, reset-before-request, connect-failure, "
                                  "envoy-ratelimited, retriable-4xx, refused-stream, "
                                  "retriable-status-codes, retriable-headers, "
                                  "http3-post-connect-failure, cancelled, deadline-exceeded, "
                                  "internal, resource-exhausted, unavailable"));
      }
    }
  }
  if (retry.has_backoff()) {
    checkDuration(issues, field(path, "backoff"), retry.backoff(), "backoff");
  }
}

}  // namespace ambit::config::validate
