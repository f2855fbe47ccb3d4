// Who is calling the control plane: a node's agent or a waypoint, as established from the bearer
// token it presents on every stream and request.
#pragma once

#include <string>

#include "core/status.h"

namespace ambit::control::auth {

struct Caller {
  enum class Kind { kNodeAgent, kWaypoint };
  Kind kind = Kind::kNodeAgent;
  std::string node;      // the node a node agent runs on (kNodeAgent)
  std::string identity;  // the SPIFFE ID of a waypoint (kWaypoint)
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // `authorization` is the value of the "authorization" request header ("Bearer <token>").
  // Errors are absl::UnauthenticatedError with a message that never echoes the token.
  virtual absl::StatusOr<Caller> authenticate(const std::string& authorization) const = 0;
};

}  // namespace ambit::control::auth
