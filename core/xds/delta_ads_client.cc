#include "core/xds/delta_ads_client.h"

#include <algorithm>
#include <random>

#include <absl/strings/str_cat.h>

#include "core/log.h"

namespace ambit::xds {
namespace {

namespace discovery = envoy::service::discovery::v3;

std::shared_ptr<spdlog::logger> logger() { return log::get("xds"); }

std::shared_ptr<grpc::Channel> makeChannel(const DeltaAdsClientOptions& options) {
  grpc::ChannelArguments args;
  if (!options.server_name.empty()) args.SetSslTargetNameOverride(options.server_name);
  // Our own backoff governs reconnects; keep gRPC's from stacking another delay on top.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  return grpc::CreateCustomChannel(options.target, options.credentials, args);
}

}  // namespace

DeltaAdsClient::DeltaAdsClient(DeltaAdsClientOptions options, Validator validator,
                               Listener listener)
    : options_(std::move(options)),
      validator_(std::move(validator)),
      listener_(std::move(listener)),
      channel_(makeChannel(options_)) {}

DeltaAdsClient::~DeltaAdsClient() { stop(); }

void DeltaAdsClient::start() {
  thread_ = std::thread([this] { run(); });
}

void DeltaAdsClient::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (context_ != nullptr) context_->TryCancel();
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool DeltaAdsClient::synced() const {
  std::lock_guard lock(mu_);
  return answered_types_.size() == options_.type_urls.size();
}

DeltaAdsClient::Counters DeltaAdsClient::counters() const {
  std::lock_guard lock(mu_);
  Counters out = counters_;
  // A resumed stream may get no response at all when nothing changed, so "connected" is the
  // channel's state while a stream is open, not the arrival of a response.
  out.connected = context_ != nullptr && channel_->GetState(false) == GRPC_CHANNEL_READY;
  return out;
}

void DeltaAdsClient::run() {
  std::mt19937_64 random(std::random_device{}());
  absl::Duration backoff = options_.initial_backoff;
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    bool got_response = false;
    const auto started = std::chrono::steady_clock::now();
    const grpc::Status status = runStream(got_response);
    const bool lasted = std::chrono::steady_clock::now() - started > std::chrono::seconds(5);
    std::unique_lock lock(mu_);
    if (stopping_) return;
    counters_.last_error =
        absl::StrCat("stream ended: ", status.error_code(), " ", status.error_message());
    // A stream that worked (answered, or stayed up) resets the backoff; a failing one doubles
    // it, up to the cap.
    if (got_response || lasted) backoff = options_.initial_backoff;
    const double jitter = std::uniform_real_distribution<double>(0.8, 1.2)(random);
    const absl::Duration wait = backoff * jitter;
    logger()->warn("control plane stream to {} ended ({}: {}); reconnecting in {}", options_.target,
                   static_cast<int>(status.error_code()), status.error_message(),
                   absl::FormatDuration(wait));
    wake_.wait_for(lock, absl::ToChronoMilliseconds(wait), [this] { return stopping_; });
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

grpc::Status DeltaAdsClient::runStream(bool& got_response) {
  auto stub = discovery::AggregatedDiscoveryService::NewStub(channel_);
  grpc::ClientContext context;
  // Wait for the channel to connect instead of failing at once while it is still in backoff
  // from an earlier failure: gRPC's own reconnect (100 ms to 1 s) then finds a restarted
  // control plane quickly.
  context.set_wait_for_ready(true);
  std::map<std::string, std::map<std::string, std::string>> initial_versions;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return grpc::Status::CANCELLED;
    context_ = &context;
    ++counters_.streams;
    for (const auto& [type, resources] : resources_) {
      for (const auto& [name, resource] : resources)
        initial_versions[type][name] = resource.version;
    }
  }
  struct ClearContext {
    DeltaAdsClient* self;
    ~ClearContext() {
      std::lock_guard lock(self->mu_);
      self->context_ = nullptr;
    }
  } clear{this};

  auto stream = stub->DeltaAggregatedResources(&context);
  for (const std::string& type : options_.type_urls) {
    discovery::DeltaDiscoveryRequest request;
    request.mutable_node()->set_id(options_.node_id);
    request.set_type_url(type);
    for (const auto& [name, version] : initial_versions[type]) {
      (*request.mutable_initial_resource_versions())[name] = version;
    }
    if (!stream->Write(request)) break;
  }
  logger()->info("subscribed to {} types at {} (resuming {} resources)", options_.type_urls.size(),
                 options_.target, [&] {
                   size_t n = 0;
                   for (const auto& [type, names] : initial_versions) n += names.size();
                   return n;
                 }());

  discovery::DeltaDiscoveryResponse response;
  while (stream->Read(&response)) {
    got_response = true;
    discovery::DeltaDiscoveryRequest answer;
    answer.set_type_url(response.type_url());
    answer.set_response_nonce(response.nonce());
    const absl::Status applied = applyResponse(response);
    if (!applied.ok()) {
      answer.mutable_error_detail()->set_code(static_cast<int>(applied.code()));
      answer.mutable_error_detail()->set_message(std::string(applied.message()));
      logger()->warn("rejected {} (nonce {}): {}", response.type_url(), response.nonce(),
                     std::string(applied.message()));
    }
    {
      std::lock_guard lock(mu_);
      ++(applied.ok() ? counters_.acks : counters_.nacks);
    }
    if (!stream->Write(answer)) break;
  }
  stream->WritesDone();
  return stream->Finish();
}

absl::Status DeltaAdsClient::applyResponse(const discovery::DeltaDiscoveryResponse& response) {
  const std::string& type = response.type_url();
  if (std::find(options_.type_urls.begin(), options_.type_urls.end(), type) ==
      options_.type_urls.end()) {
    return absl::InvalidArgumentError(absl::StrCat("unexpected type ", type));
  }
  // Validate everything first: a response is applied whole or not at all.
  for (const discovery::Resource& resource : response.resources()) {
    if (resource.name().empty()) return absl::InvalidArgumentError("a resource has no name");
    if (resource.resource().type_url() != type) {
      return absl::InvalidArgumentError(absl::StrCat("resource ", resource.name(), " has type ",
                                                     resource.resource().type_url(), ", expected ",
                                                     type));
    }
    absl::Status status = validator_(type, resource.name(), resource.resource());
    if (!status.ok()) {
      return absl::Status(status.code(), absl::StrCat("resource ", resource.name(), ": ",
                                                      std::string(status.message())));
    }
  }
  // The listener runs under the lock so it sees the held map without a copy; it must not call
  // back into the client.
  std::lock_guard lock(mu_);
  ResourceMap& held = resources_[type];
  for (const std::string& name : response.removed_resources()) held.erase(name);
  for (const discovery::Resource& resource : response.resources()) {
    held[resource.name()] = Resource{resource.version(), resource.resource()};
  }
  answered_types_.insert(type);
  logger()->debug("accepted {}: {} updated, {} removed, {} held", type, response.resources_size(),
                  response.removed_resources_size(), held.size());
  listener_(type, held);
  return absl::OkStatus();
}

}  // namespace ambit::xds
