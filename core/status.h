// The one error style of Ambit: absl::Status and absl::StatusOr<T> (see docs/architecture.md).
// Messages carry their context ("read samples/x.yaml: No such file or directory").
#pragma once

#include <absl/status/status.h>
#include <absl/status/statusor.h>
#include <absl/strings/str_cat.h>

#define AMBIT_STATUS_CONCAT_INNER(a, b) a##b
#define AMBIT_STATUS_CONCAT(a, b) AMBIT_STATUS_CONCAT_INNER(a, b)

// Returns from the enclosing function when `expr` yields a non-OK absl::Status.
#define AMBIT_RETURN_IF_ERROR(expr)                                   \
  do {                                                                \
    if (absl::Status status_ = (expr); !status_.ok()) return status_; \
  } while (false)

// Binds `lhs` to the value of an absl::StatusOr expression, or returns its error. `lhs` is a
// declaration ("auto x") as often as an lvalue, so it cannot be parenthesized.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define AMBIT_ASSIGN_OR_RETURN(lhs, expr)                                \
  auto AMBIT_STATUS_CONCAT(statusor_, __LINE__) = (expr);                \
  if (!AMBIT_STATUS_CONCAT(statusor_, __LINE__).ok())                    \
    return std::move(AMBIT_STATUS_CONCAT(statusor_, __LINE__)).status(); \
  lhs = *std::move(AMBIT_STATUS_CONCAT(statusor_, __LINE__))
// NOLINTEND(bugprone-macro-parentheses)
