// The Delta xDS protocol state of one client stream: per type URL what it subscribed to, which
// resource versions it holds and which responses it has (N)ACKed. Pure logic without I/O, so the
// protocol rules are tested without a network; DeltaAdsServer drives it from a stream.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "control/xds/resources.h"
#include "control/xds/sync_status.h"
#include "core/status.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace ambit::control::xds {

namespace discovery = envoy::service::discovery::v3;

// Bounds on what one client may ask for; requests beyond them end the stream (INVALID_ARGUMENT).
struct ClientLimits {
  size_t max_types = 32;               // type URLs per stream
  size_t max_names_per_type = 100000;  // explicit names, and initial_resource_versions entries
};

// What a request meant, for the server's logs and counters.
struct RequestEvents {
  bool first_for_type = false;
  bool ack = false;
  bool stale_nonce = false;  // an ACK for a nonce not (or no longer) pending: ignored
  std::optional<NackRecord> nack;
};

class ClientState {
 public:
  // Whether the client may see a resource (a per-caller filter); `nullptr` shows everything.
  using Visible = std::function<bool(const std::string& type_url, const Resource&)>;

  explicit ClientState(ClientLimits limits = {}) : limits_(limits) {}

  // Applies one request: subscription changes, initial versions, ACK or NACK. `known_type` is
  // recorded for the sync status when the request is the first of its type. An error (missing
  // type URL, limits) is INVALID_ARGUMENT and the stream must end; the state is then unspecified.
  absl::Status onRequest(const discovery::DeltaDiscoveryRequest& request, bool known_type,
                         WallTime now, RequestEvents& events);

  // True when requests changed what the client should hold (a new type, subscription changes,
  // initial versions), so a diff against the current snapshot is due without a new snapshot.
  bool needsDiff() const;

  // The responses, one per type URL that has something to say, that bring the client from what
  // it holds to `snapshot`, and records them as sent (optimistically: a later NACK does not make
  // the server resend the rejected version, only a newer one). `system_version` goes into
  // system_version_info; `nextNonce` makes each response's nonce.
  std::vector<discovery::DeltaDiscoveryResponse> respond(
      const Snapshot& snapshot, const std::string& system_version, const Visible& visible,
      const std::function<std::string()>& nextNonce, WallTime now);

  const std::string& nodeId() const { return node_id_; }
  std::vector<TypeSyncStatus> status() const;

 private:
  // Responses kept awaiting an ACK or NACK per type; older ones are forgotten (the client may
  // never answer them, as it is allowed to answer only the newest).
  static constexpr size_t kMaxPendingNonces = 16;

  struct Pending {
    std::string nonce;
    std::string version;
  };

  struct TypeState {
    bool known_type = true;
    bool wildcard = false;
    std::set<std::string> names;              // explicit subscriptions
    std::map<std::string, std::string> held;  // name -> version the client holds
    std::set<std::string> must_send;          // newly subscribed: send even if held
    bool owes_response = false;               // answer even with an empty diff
    bool changed = false;  // a request changed the subscription since the last diff
    std::deque<Pending> pending;
    TypeSyncStatus status;  // the counters and last sent/ACK/NACK fields
  };

  static bool interested(const TypeState& state, const std::string& name) {
    return state.wildcard || state.names.count(name) > 0;
  }
  static void dropUninterested(TypeState& state);
  static void answer(TypeState& state, const std::string& nonce, RequestEvents& events,
                     bool is_nack);
  std::optional<discovery::DeltaDiscoveryResponse> respondType(const std::string& type_url,
                                                               TypeState& state,
                                                               const TypeResources* resources,
                                                               const Visible& visible);

  const ClientLimits limits_;
  std::string node_id_;
  std::map<std::string, TypeState> types_;
};

}  // namespace ambit::control::xds
