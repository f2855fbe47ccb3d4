#include "control/xds/delta_ads_server.h"

#include <algorithm>

#include "core/log.h"

namespace ambit::control::xds {
namespace {

int64_t steadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string callerName(const std::optional<auth::Caller>& caller) {
  if (!caller) return "anonymous";
  if (caller->kind == auth::Caller::Kind::kWaypoint) return "waypoint " + caller->identity;
  return "node " + caller->node;
}

}  // namespace

// One client stream: its protocol state (guarded by mu) and what the watchdog needs.
struct DeltaAdsServer::Stream {
  uint64_t id = 0;
  grpc::ServerContext* context = nullptr;
  std::optional<auth::Caller> caller;
  std::string peer;
  WallTime connected_since;

  std::mutex mu;
  std::condition_variable cv;  // the writer waits here for work
  ClientState state;
  uint64_t synced_generation = 0;  // the newest snapshot the writer has answered for
  bool done = false;

  std::atomic<int64_t> write_started_ns{0};  // steady clock; 0 while no write is in progress
  bool timed_out = false;                    // guarded by streams_mu_

  explicit Stream(ClientLimits limits) : state(limits) {}

  // For log lines: the node id once the client has sent one, the peer before.
  std::string label() {
    std::lock_guard<std::mutex> lock(mu);
    return absl::StrCat("stream ", id, " (", state.nodeId().empty() ? peer : state.nodeId(), ")");
  }
};

DeltaAdsServer::DeltaAdsServer(const auth::Authenticator* authenticator, DeltaAdsOptions options)
    : authenticator_(authenticator), options_(std::move(options)), log_(log::get("xds")) {
  timer_ = std::thread([this] { timerLoop(); });
}

DeltaAdsServer::~DeltaAdsServer() { stop(); }

void DeltaAdsServer::publish(SnapshotPtr snapshot) {
  if (!snapshot) {
    log_->error("publish without a snapshot ignored");
    return;
  }
  std::lock_guard<std::mutex> lock(publish_mu_);
  const auto now = SteadyClock::now();
  if (!ever_published_) {
    // Clients connecting at start-up wait for the first configuration; nothing to coalesce yet.
    ever_published_ = true;
    activate(std::move(snapshot), now);
    return;
  }
  if (!pending_) {
    pending_since_ = now;
    pending_deadline_ = now + options_.debounce;
  }
  pending_ = std::move(snapshot);
  timer_cv_.notify_one();
}

void DeltaAdsServer::stop() {
  {
    std::lock_guard<std::mutex> lock(publish_mu_);
    stopping_ = true;
  }
  timer_cv_.notify_one();
  if (timer_.joinable()) timer_.join();
  std::lock_guard<std::mutex> lock(streams_mu_);
  stopped_ = true;
  for (auto& [id, stream] : streams_) {
    stream->context->TryCancel();
    std::lock_guard<std::mutex> stream_lock(stream->mu);
    stream->done = true;
    stream->cv.notify_one();
  }
}

std::pair<SnapshotPtr, uint64_t> DeltaAdsServer::current() const {
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  return {current_, generation_};
}

bool DeltaAdsServer::knownType(const std::string& type_url) const {
  if (std::find(options_.type_urls.begin(), options_.type_urls.end(), type_url) !=
      options_.type_urls.end()) {
    return true;
  }
  auto snapshot = current().first;
  return snapshot && snapshot->types.count(type_url) > 0;
}

std::string DeltaAdsServer::nextNonce() { return std::to_string(next_nonce_.fetch_add(1)); }

absl::StatusOr<std::optional<auth::Caller>> DeltaAdsServer::authenticate(
    const grpc::ServerContext& context) {
  if (authenticator_ == nullptr) return std::optional<auth::Caller>();
  const auto& metadata = context.client_metadata();
  auto header = metadata.find("authorization");
  if (header == metadata.end()) {
    return absl::UnauthenticatedError(
        "no \"authorization\" metadata (expected \"Bearer <token>\")");
  }
  auto caller =
      authenticator_->authenticate(std::string(header->second.data(), header->second.size()));
  if (!caller.ok()) return absl::UnauthenticatedError(caller.status().message());
  return std::optional<auth::Caller>(*std::move(caller));
}

grpc::Status DeltaAdsServer::DeltaAggregatedResources(grpc::ServerContext* context,
                                                      ResponseStream* io) {
  auto caller = authenticate(*context);
  if (!caller.ok()) {
    ++auth_failures_;
    log_->warn("refused stream from {}: {}", context->peer(),
               std::string(caller.status().message()));
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, std::string(caller.status().message()));
  }
  Stream stream(options_.limits);
  stream.id = next_stream_id_.fetch_add(1);
  stream.context = context;
  stream.caller = *std::move(caller);
  stream.peer = context->peer();
  stream.connected_since = std::chrono::system_clock::now();
  {
    std::lock_guard<std::mutex> lock(streams_mu_);
    if (stopped_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "control plane stopping");
    streams_[stream.id] = &stream;
    ++streams_total_;
  }
  log_->info("stream {} from {} ({}) connected", stream.id, stream.peer, callerName(stream.caller));

  std::thread writer([&] { writeLoop(stream, *io); });
  const grpc::Status status = readLoop(stream, *io);
  {
    std::lock_guard<std::mutex> lock(stream.mu);
    stream.done = true;
  }
  stream.cv.notify_one();
  writer.join();
  {
    // Under streams_mu_, so no watchdog or stop() touches the context once the call is over.
    std::lock_guard<std::mutex> lock(streams_mu_);
    streams_.erase(stream.id);
    tracker_.gone(stream.id);
  }
  const std::string outcome = !status.ok()             ? status.error_message()
                              : context->IsCancelled() ? std::string("cancelled")
                                                       : std::string("closed by the client");
  log_->info("{} ended: {}", stream.label(), outcome);
  return status;
}

grpc::Status DeltaAdsServer::readLoop(Stream& stream, ResponseStream& io) {
  discovery::DeltaDiscoveryRequest request;
  while (io.Read(&request)) {
    const bool known = knownType(request.type_url());
    RequestEvents events;
    absl::Status status;
    {
      std::lock_guard<std::mutex> lock(stream.mu);
      status = stream.state.onRequest(request, known, std::chrono::system_clock::now(), events);
      // Counted with the state change, so whoever sees one in syncStatus() sees the other.
      if (status.ok() && events.first_for_type && !known) ++unknown_types_;
      if (status.ok() && events.nack) ++nacks_;
    }
    if (!status.ok()) {
      ++invalid_requests_;
      log_->warn("{}: {}", stream.label(), std::string(status.message()));
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(status.message()));
    }
    if (events.first_for_type && !known) {
      log_->warn("{} subscribed to unknown type {}: answered with no resources", stream.label(),
                 request.type_url());
    } else if (events.first_for_type) {
      log_->debug("{} subscribed to {}", stream.label(), request.type_url());
    }
    if (events.nack) {
      log_->warn("{} rejected {} nonce {}: {}", stream.label(), request.type_url(),
                 events.nack->nonce, events.nack->message);
    } else if (events.stale_nonce) {
      log_->debug("{} answered unknown nonce {} for {}", stream.label(), request.response_nonce(),
                  request.type_url());
    }
    stream.cv.notify_one();
    request.Clear();
  }
  return grpc::Status::OK;
}

void DeltaAdsServer::writeLoop(Stream& stream, ResponseStream& io) {
  ClientState::Visible visible;
  if (options_.filter) {
    const auth::Caller* caller = stream.caller ? &*stream.caller : nullptr;
    visible = [this, caller](const std::string& type_url, const Resource& resource) {
      return options_.filter(caller, type_url, resource);
    };
  }
  for (;;) {
    std::vector<discovery::DeltaDiscoveryResponse> responses;
    uint64_t generation = 0;
    {
      // Computing the diff only when the writer is free is what bounds a slow client: however
      // many pushes happen meanwhile, it gets one diff against the newest snapshot.
      std::unique_lock<std::mutex> lock(stream.mu);
      for (;;) {
        if (stream.done) return;
        auto [snapshot, current_generation] = current();
        if (snapshot &&
            (stream.state.needsDiff() || stream.synced_generation < current_generation)) {
          generation = current_generation;
          responses = stream.state.respond(
              *snapshot, std::to_string(generation), visible, [this] { return nextNonce(); },
              std::chrono::system_clock::now());
          stream.synced_generation = generation;
          break;
        }
        stream.cv.wait(lock);
      }
    }
    for (const auto& response : responses) {
      stream.write_started_ns.store(steadyNanos());
      const bool ok = io.Write(response);
      stream.write_started_ns.store(0);
      if (!ok) {
        // The call is over (client gone or cancelled); make sure the reader stops too.
        stream.context->TryCancel();
        return;
      }
      ++responses_;
      log_->debug("{} sent {}: {} resources, {} removed, nonce {}", stream.label(),
                  response.type_url(), response.resources_size(), response.removed_resources_size(),
                  response.nonce());
    }
    tracker_.synced(stream.id, generation, SteadyClock::now());
  }
}

void DeltaAdsServer::timerLoop() {
  // The watchdog looks often enough to act within about a tenth of the write timeout.
  const auto tick = std::clamp<SteadyClock::duration>(
      options_.write_timeout / 10, std::chrono::milliseconds(10), std::chrono::seconds(1));
  std::unique_lock<std::mutex> lock(publish_mu_);
  auto next_check = SteadyClock::now() + tick;
  while (!stopping_) {
    const auto wake = pending_ ? std::min(next_check, pending_deadline_) : next_check;
    timer_cv_.wait_until(lock, wake);
    if (stopping_) break;
    const auto now = SteadyClock::now();
    if (pending_ && now >= pending_deadline_) {
      // Under publish_mu_, so snapshots become current in the order they were published.
      SnapshotPtr snapshot = std::move(pending_);
      pending_.reset();
      activate(std::move(snapshot), pending_since_);
    }
    if (now >= next_check) {
      lock.unlock();
      cancelBlockedWrites();
      lock.lock();
      next_check = now + tick;
    }
  }
}

void DeltaAdsServer::activate(SnapshotPtr snapshot, SteadyClock::time_point published) {
  uint64_t generation = 0;
  {
    std::lock_guard<std::mutex> lock(snapshot_mu_);
    current_ = std::move(snapshot);
    generation = ++generation_;
  }
  ++pushes_;
  std::lock_guard<std::mutex> lock(streams_mu_);
  std::vector<uint64_t> ids;
  ids.reserve(streams_.size());
  for (const auto& [id, stream] : streams_) ids.push_back(id);
  tracker_.started(generation, published, std::move(ids));
  for (auto& [id, stream] : streams_) {
    // Taking the stream's mutex orders this wake-up after the writer's check of the generation.
    std::lock_guard<std::mutex> stream_lock(stream->mu);
    stream->cv.notify_one();
  }
  log_->debug("push {} to {} streams", generation, streams_.size());
}

void DeltaAdsServer::cancelBlockedWrites() {
  const int64_t now = steadyNanos();
  const int64_t limit =
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.write_timeout).count();
  std::lock_guard<std::mutex> lock(streams_mu_);
  for (auto& [id, stream] : streams_) {
    const int64_t started = stream->write_started_ns.load();
    if (started == 0 || stream->timed_out || now - started < limit) continue;
    stream->timed_out = true;
    ++write_timeouts_;
    log_->warn("{}: disconnecting, a write has been blocked for {} ms (the client is not reading)",
               stream->label(), (now - started) / 1000000);
    stream->context->TryCancel();
  }
}

std::vector<ClientSyncStatus> DeltaAdsServer::syncStatus() const {
  std::vector<ClientSyncStatus> out;
  std::lock_guard<std::mutex> lock(streams_mu_);
  out.reserve(streams_.size());
  for (const auto& [id, stream] : streams_) {
    ClientSyncStatus client;
    client.stream_id = id;
    client.caller = stream->caller;
    client.peer = stream->peer;
    client.connected_since = stream->connected_since;
    std::lock_guard<std::mutex> stream_lock(stream->mu);
    client.node_id = stream->state.nodeId();
    client.types = stream->state.status();
    out.push_back(std::move(client));
  }
  return out;
}

AdsCounters DeltaAdsServer::counters() const {
  AdsCounters out;
  {
    std::lock_guard<std::mutex> lock(streams_mu_);
    out.connected_clients = streams_.size();
  }
  out.streams_total = streams_total_.load();
  out.pushes = pushes_.load();
  out.responses = responses_.load();
  out.nacks = nacks_.load();
  out.unknown_type_requests = unknown_types_.load();
  out.invalid_requests = invalid_requests_.load();
  out.auth_failures = auth_failures_.load();
  out.write_timeouts = write_timeouts_.load();
  out.push_latency = tracker_.stats();
  return out;
}

}  // namespace ambit::control::xds
