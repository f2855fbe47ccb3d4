// What a request's validated JWT tells the authorization policies: Istio's request.auth.*
// attributes. RequestAuthentication (waypoint/jwt) produces it; AuthorizationPolicy evaluation
// (waypoint/authz) reads it.
#pragma once

#include <string>
#include <vector>

#include <google/protobuf/struct.pb.h>

namespace ambit::waypoint {

struct RequestAuth {
  // "<iss>/<sub>", Istio's request principal.
  std::string principal;
  // The token's `aud` (a string becomes one entry).
  std::vector<std::string> audiences;
  // The token's `azp`; empty when absent.
  std::string presenter;
  // The whole payload, for request.auth.claims[name][nested]...
  google::protobuf::Struct claims;
};

}  // namespace ambit::waypoint
