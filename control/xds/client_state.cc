#include "control/xds/client_state.h"

#include <algorithm>

namespace ambit::control::xds {
namespace {

constexpr const char* kWildcard = "*";

}  // namespace

absl::Status ClientState::onRequest(const discovery::DeltaDiscoveryRequest& request,
                                    bool known_type, WallTime now, RequestEvents& events) {
  const std::string& type_url = request.type_url();
  if (type_url.empty()) {
    return absl::InvalidArgumentError(
        "DeltaDiscoveryRequest without type_url (every request on an aggregated stream must name "
        "its type)");
  }
  if (request.has_node() && !request.node().id().empty()) node_id_ = request.node().id();

  auto it = types_.find(type_url);
  events.first_for_type = it == types_.end();
  if (events.first_for_type) {
    if (types_.size() >= limits_.max_types) {
      return absl::InvalidArgumentError(absl::StrCat("type URL \"", type_url, "\": more than ",
                                                     limits_.max_types,
                                                     " type URLs on one stream"));
    }
    if (static_cast<size_t>(request.initial_resource_versions_size()) >
        limits_.max_names_per_type) {
      return absl::InvalidArgumentError(absl::StrCat("type URL \"", type_url, "\": more than ",
                                                     limits_.max_names_per_type,
                                                     " initial_resource_versions"));
    }
    it = types_.emplace(type_url, TypeState{}).first;
    TypeState& fresh = it->second;
    fresh.known_type = known_type;
    fresh.status.type_url = type_url;
    fresh.status.known_type = known_type;
    // Envoy's rule: a first request that subscribes to no name asks for everything.
    fresh.wildcard = request.resource_names_subscribe().empty();
    for (const auto& [name, version] : request.initial_resource_versions()) {
      fresh.held[name] = version;
    }
    // After a reconnect the client already holds what it declared; with nothing to add, the
    // server stays silent instead of sending an empty response.
    fresh.owes_response = request.initial_resource_versions().empty();
  }
  TypeState& state = it->second;
  if (events.first_for_type || !request.resource_names_subscribe().empty() ||
      !request.resource_names_unsubscribe().empty()) {
    state.changed = true;
  }

  for (const std::string& name : request.resource_names_subscribe()) {
    if (name == kWildcard) {
      state.wildcard = true;
      continue;
    }
    state.names.insert(name);
    // Envoy requires a subscribed name to be answered even when the server thinks the client
    // holds it: the client may have dropped it before the subscription reached the server.
    // Names declared in the first request's initial versions are the exception (reconnect).
    const bool declared =
        events.first_for_type && request.initial_resource_versions().count(name) > 0;
    if (!declared) state.must_send.insert(name);
  }
  for (const std::string& name : request.resource_names_unsubscribe()) {
    if (name == kWildcard) {
      state.wildcard = false;
    } else {
      state.names.erase(name);
      state.must_send.erase(name);
    }
  }
  if (state.names.size() > limits_.max_names_per_type) {
    return absl::InvalidArgumentError(absl::StrCat("type URL \"", type_url, "\": more than ",
                                                   limits_.max_names_per_type,
                                                   " subscribed resource names"));
  }
  // The client forgets what it unsubscribed from by itself; no removal is sent for it.
  dropUninterested(state);

  if (request.has_error_detail()) {
    NackRecord nack;
    nack.nonce = request.response_nonce();
    nack.code = request.error_detail().code();
    nack.message = request.error_detail().message();
    nack.time = now;
    events.nack = nack;
    answer(state, request.response_nonce(), events, true);
    state.status.last_nack = std::move(nack);
    ++state.status.nacks;
  } else if (!request.response_nonce().empty()) {
    answer(state, request.response_nonce(), events, false);
  }
  return absl::OkStatus();
}

void ClientState::dropUninterested(TypeState& state) {
  for (auto held = state.held.begin(); held != state.held.end();) {
    held = interested(state, held->first) ? std::next(held) : state.held.erase(held);
  }
}

void ClientState::answer(TypeState& state, const std::string& nonce, RequestEvents& events,
                         bool is_nack) {
  auto match = std::find_if(state.pending.begin(), state.pending.end(),
                            [&](const Pending& p) { return p.nonce == nonce; });
  if (match == state.pending.end()) {
    // An answer to a response of an earlier stream or one already superseded: nothing to record.
    if (!is_nack) events.stale_nonce = true;
    return;
  }
  if (!is_nack) {
    state.status.acked_nonce = match->nonce;
    state.status.acked_version = match->version;
    events.ack = true;
  }
  // The client answers in order, so an answer also settles every older response.
  state.pending.erase(state.pending.begin(), std::next(match));
}

bool ClientState::needsDiff() const {
  return std::any_of(types_.begin(), types_.end(),
                     [](const auto& entry) { return entry.second.changed; });
}

std::vector<discovery::DeltaDiscoveryResponse> ClientState::respond(
    const Snapshot& snapshot, const std::string& system_version, const Visible& visible,
    const std::function<std::string()>& nextNonce, WallTime now) {
  std::vector<discovery::DeltaDiscoveryResponse> out;
  for (auto& [type_url, state] : types_) {
    auto found = snapshot.types.find(type_url);
    const TypeResources* resources = found == snapshot.types.end() ? nullptr : &found->second;
    auto response = respondType(type_url, state, resources, visible);
    if (!response) continue;
    response->set_system_version_info(system_version);
    response->set_nonce(nextNonce());
    state.pending.push_back({response->nonce(), system_version});
    if (state.pending.size() > kMaxPendingNonces) state.pending.pop_front();
    state.status.sent_nonce = response->nonce();
    state.status.sent_version = system_version;
    state.status.sent_time = now;
    ++state.status.responses_sent;
    state.status.resources_sent += static_cast<uint64_t>(response->resources_size());
    out.push_back(std::move(*response));
  }
  return out;
}

std::optional<discovery::DeltaDiscoveryResponse> ClientState::respondType(
    const std::string& type_url, TypeState& state, const TypeResources* resources,
    const Visible& visible) {
  discovery::DeltaDiscoveryResponse response;
  response.set_type_url(type_url);
  auto lookup = [&](const std::string& name) -> const Resource* {
    if (resources == nullptr) return nullptr;
    auto it = resources->find(name);
    if (it == resources->end() || !it->second) return nullptr;
    if (visible && !visible(type_url, *it->second)) return nullptr;
    return it->second.get();
  };
  auto offer = [&](const Resource& resource) {
    auto held = state.held.find(resource.name);
    const bool forced = state.must_send.count(resource.name) > 0;
    if (!forced && held != state.held.end() && held->second == resource.version) return;
    discovery::Resource* out = response.add_resources();
    out->set_name(resource.name);
    out->set_version(resource.version);
    *out->mutable_resource() = resource.body;
    state.held[resource.name] = resource.version;
  };

  if (state.wildcard && resources != nullptr) {
    for (const auto& [name, resource] : *resources) {
      if (resource && (!visible || visible(type_url, *resource))) offer(*resource);
    }
  }
  if (!state.wildcard) {
    for (const std::string& name : state.names) {
      if (const Resource* resource = lookup(name)) offer(*resource);
    }
  }
  // What the client holds that no longer exists (or it may no longer see) is removed.
  for (auto held = state.held.begin(); held != state.held.end();) {
    if (lookup(held->first) == nullptr) {
      response.add_removed_resources(held->first);
      held = state.held.erase(held);
    } else {
      ++held;
    }
  }
  // A subscribed name that does not exist is answered with a removal, so the client stops
  // waiting for it (xDS: "resource does not exist").
  for (const std::string& name : state.must_send) {
    if (lookup(name) == nullptr &&
        std::find(response.removed_resources().begin(), response.removed_resources().end(), name) ==
            response.removed_resources().end()) {
      response.add_removed_resources(name);
    }
  }
  state.must_send.clear();
  state.changed = false;
  const bool owed = state.owes_response;
  state.owes_response = false;
  if (!owed && response.resources_size() == 0 && response.removed_resources_size() == 0) {
    return std::nullopt;
  }
  return response;
}

std::vector<TypeSyncStatus> ClientState::status() const {
  std::vector<TypeSyncStatus> out;
  out.reserve(types_.size());
  for (const auto& [type_url, state] : types_) {
    TypeSyncStatus status = state.status;
    status.wildcard = state.wildcard;
    status.names.assign(state.names.begin(), state.names.end());
    status.resources_held = state.held.size();
    status.pending_nonce = state.pending.empty() ? "" : state.pending.back().nonce;
    out.push_back(std::move(status));
  }
  return out;
}

}  // namespace ambit::control::xds
