#include "waypoint/proxy/retry.h"

#include <absl/strings/ascii.h>
#include <absl/strings/str_split.h>

namespace ambit::waypoint {
namespace {

bool hasCondition(const RetryPolicy& policy, std::string_view condition) {
  for (absl::string_view part : absl::StrSplit(policy.retry_on, ',', absl::SkipWhitespace())) {
    const absl::string_view trimmed = absl::StripAsciiWhitespace(part);
    if (std::string_view(trimmed.data(), trimmed.size()) == condition) return true;
  }
  return false;
}

}  // namespace

bool shouldRetry(const RetryPolicy& policy, const AttemptResult& attempt) {
  using Outcome = AttemptResult::Outcome;
  if (policy.attempts == 0) return false;
  const bool any_5xx = hasCondition(policy, "5xx");
  const bool gateway = hasCondition(policy, "gateway-error");
  switch (attempt.outcome) {
    case Outcome::kConnectFailure:
      return any_5xx || gateway || hasCondition(policy, "connect-failure") ||
             hasCondition(policy, "refused-stream");
    case Outcome::kReset:
    case Outcome::kTimeout:
      return any_5xx || gateway || hasCondition(policy, "reset");
    case Outcome::kBadResponse:
      return any_5xx || gateway;
    case Outcome::kResponse:
      break;
  }
  const int status = attempt.response.status;
  if (any_5xx && status >= 500 && status <= 599) return true;
  if (gateway && (status == 502 || status == 503 || status == 504)) return true;
  if (hasCondition(policy, "retriable-4xx") && status == 409) return true;
  if (hasCondition(policy, "retriable-status-codes")) {
    for (uint32_t code : policy.retriable_status_codes) {
      if (static_cast<int>(code) == status) return true;
    }
  }
  return false;
}

FailureReply failureReply(AttemptResult::Outcome outcome) {
  switch (outcome) {
    case AttemptResult::Outcome::kConnectFailure:
      return {503, "UF"};
    case AttemptResult::Outcome::kTimeout:
      return {504, "UT"};
    default:
      return {503, "UC"};
  }
}

}  // namespace ambit::waypoint
