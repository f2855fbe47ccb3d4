// The target of an explained request: its URL, split as curl sends it, and the Service its host
// names, found as a pod's resolver would find it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "ctl/explain/inventory.h"

namespace ambit::ctl::explain {

struct Url {
  std::string host;       // lower case, without brackets
  uint16_t port = 80;     // from the URL, else 80
  std::string target;     // the path with its query; "/" at least
  std::string authority;  // the Host header curl sends: the host, with the port unless 80
};

// Accepts "http://host[:port][/path][?query]" and the same without "http://". Other schemes are
// INVALID_ARGUMENT: the waypoint routes plain HTTP.
absl::StatusOr<Url> parseUrl(std::string_view url);

struct ResolvedService {
  const config::Object* service = nullptr;
  std::string hostname;  // the Service's FQDN
  std::string how;       // "short name, in namespace default (the caller's)"
};

// The Service `host` names for a pod of `namespace_`: an address literal by the Service's
// cluster IP; a name as the pod's resolver tries it (search domains "<namespace_>.svc.<domain>",
// "svc.<domain>", "<domain>", ndots 5; a trailing dot makes it absolute). NOT_FOUND names the
// candidates tried.
absl::StatusOr<ResolvedService> resolveService(const Inventory& inventory, std::string_view host,
                                               const std::string& namespace_);

}  // namespace ambit::ctl::explain
