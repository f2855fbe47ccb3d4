// `ambitctl proxy-status`: what the control plane has sent each connected node agent and waypoint
// and whether they accepted it, read from its /debug/syncz, as `istioctl proxy-status` shows it
// for Istio's proxies. Exit 0 when shown, 1 when the control plane cannot be read, 2 on usage
// errors.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "core/status.h"
#include "ctl/proxy/json_value.h"

namespace ambit::ctl {

// The control plane's debug server when neither --control nor AMBIT_CONTROL_DEBUG names one:
// ambit-control's --debug-address and --debug-port defaults.
inline constexpr const char* kDefaultControlDebug = "127.0.0.1:15014";
inline constexpr const char* kControlDebugEnv = "AMBIT_CONTROL_DEBUG";

// Runs the command with its arguments (after the word "proxy-status").
int runProxyStatus(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

namespace proxy {

enum class SyncState { kSynced, kStale, kNacked, kNotSent };

// One resource type of one client, from the nonces /debug/syncz reports: NOT SENT when nothing
// was sent, SYNCED when the last response sent was ACKed, NACKED when it was rejected, STALE
// while it awaits an answer (a newer response after a NACK is STALE until answered too).
SyncState syncState(const std::string& sent_nonce, const std::string& acked_nonce,
                    const std::string& nacked_nonce);
// "SYNCED", "STALE", "NACKED", "NOT SENT".
std::string syncStateName(SyncState state);
// As a table shows it: the name, and for NACKED the stream's NACK count for that type,
// "NACKED (2)".
std::string syncStateText(SyncState state, uint64_t nacks);
// The last component of a type URL in upper case:
// "type.googleapis.com/istio.networking.v1alpha3.VirtualService" gives "VIRTUALSERVICE".
std::string shortTypeName(const std::string& type_url);

struct TypeStatus {
  std::string type_url;
  SyncState state = SyncState::kNotSent;
  uint64_t nacks = 0;
  Value syncz;  // the type's object in /debug/syncz, as read
};

struct ClientStatus {
  std::string name;     // the node id the client sent
  std::string kind;     // "agent", "waypoint", or "" when the control plane does not know
  std::string version;  // the newest configuration push it ACKed for any type; "" for none
  std::vector<TypeStatus> types;
  Value syncz;  // the client's object in /debug/syncz, as read
};

// The clients of a /debug/syncz document, in its order; INVALID_ARGUMENT when it is not a list
// of client objects.
absl::StatusOr<std::vector<ClientStatus>> readSyncz(const Value& syncz);

// The columns that resource types get, by short name: Ambit's own types first, in the order a
// client meets them (addresses, authorization, then the waypoint's), any other after, by name.
std::vector<std::string> typeColumns(const std::vector<ClientStatus>& clients);

// NAME KIND <one column per type> CONTROL VERSION; a type the client did not subscribe to is "-".
void printStatusTable(const std::vector<ClientStatus>& clients, const std::string& control,
                      std::ostream& out);

// For -o json|yaml: {"control", "clients": [each client's syncz object with "name", "kind",
// "version", and each type's object with "type" (its short name) and "status" (SyncState,
// without the count, which is "nacks")]}.
Value statusValue(const std::vector<ClientStatus>& clients, const std::string& control);

}  // namespace proxy
}  // namespace ambit::ctl
