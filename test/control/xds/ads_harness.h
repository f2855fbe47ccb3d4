// Test harness for the Delta ADS server: the server on 127.0.0.1 in-process, and a client whose
// responses are read on a thread into a queue, so that every wait in a test is bounded.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/wrappers.pb.h>
#include <grpcpp/grpcpp.h>

#include "control/xds/delta_ads_server.h"

namespace ambit::control::xds::testing {

using namespace std::chrono_literals;

// Tests serve google.protobuf.StringValue resources under their own type URL.
inline constexpr const char* kTestType = "type.googleapis.com/google.protobuf.StringValue";

inline ResourcePtr stringResource(const std::string& name, const std::string& value) {
  google::protobuf::StringValue body;
  body.set_value(value);
  return makeResource(name, body);
}

// A snapshot of kTestType resources, name -> value.
inline SnapshotPtr snapshotOf(const std::vector<std::pair<std::string, std::string>>& entries) {
  auto snapshot = std::make_shared<Snapshot>();
  TypeResources& resources = snapshot->types[kTestType];
  for (const auto& [name, value] : entries) resources[name] = stringResource(name, value);
  return snapshot;
}

inline DeltaAdsOptions testOptions() {
  DeltaAdsOptions options;
  options.debounce = 50ms;
  options.write_timeout = 2s;
  options.type_urls = {kTestType};
  return options;
}

class AdsHarness {
 public:
  explicit AdsHarness(DeltaAdsOptions options = testOptions(),
                      const auth::Authenticator* authenticator = nullptr)
      : ads_(authenticator, std::move(options)) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&ads_);
    server_ = builder.BuildAndStart();
  }
  ~AdsHarness() {
    ads_.stop();
    server_->Shutdown(std::chrono::system_clock::now() + 1s);
  }

  DeltaAdsServer& ads() { return ads_; }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  DeltaAdsServer ads_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

class AdsClient {
 public:
  // `read` false: the client never reads its responses (a stuck client).
  explicit AdsClient(const AdsHarness& harness, const std::string& token = "", bool read = true) {
    grpc::ChannelArguments args;
    // Each client gets its own connection, as separate agents would.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    // A stuck client keeps the initial flow-control window instead of growing it, so that it
    // blocks the server's writes after a few hundred kilobytes.
    if (!read) args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
    auto channel =
        grpc::CreateCustomChannel(harness.address(), grpc::InsecureChannelCredentials(), args);
    stub_ = discovery::AggregatedDiscoveryService::NewStub(channel);
    context_.set_deadline(std::chrono::system_clock::now() + 20s);  // no test may hang
    if (!token.empty()) context_.AddMetadata("authorization", "Bearer " + token);
    stream_ = stub_->DeltaAggregatedResources(&context_);
    if (read) reader_ = std::thread([this] { readAll(); });
  }
  ~AdsClient() {
    context_.TryCancel();
    if (reader_.joinable()) reader_.join();
  }

  bool send(const discovery::DeltaDiscoveryRequest& request) { return stream_->Write(request); }

  bool subscribe(const std::string& type_url, const std::vector<std::string>& names = {},
                 const std::map<std::string, std::string>& initial = {}) {
    discovery::DeltaDiscoveryRequest request;
    request.mutable_node()->set_id("test-node");
    request.set_type_url(type_url);
    for (const auto& name : names) request.add_resource_names_subscribe(name);
    for (const auto& [name, version] : initial) {
      (*request.mutable_initial_resource_versions())[name] = version;
    }
    return send(request);
  }

  bool ack(const discovery::DeltaDiscoveryResponse& response) {
    discovery::DeltaDiscoveryRequest request;
    request.set_type_url(response.type_url());
    request.set_response_nonce(response.nonce());
    return send(request);
  }

  bool nack(const discovery::DeltaDiscoveryResponse& response, const std::string& message) {
    discovery::DeltaDiscoveryRequest request;
    request.set_type_url(response.type_url());
    request.set_response_nonce(response.nonce());
    request.mutable_error_detail()->set_code(13);
    request.mutable_error_detail()->set_message(message);
    return send(request);
  }

  // The next response, or nothing within `timeout` (or once the stream has ended).
  std::optional<discovery::DeltaDiscoveryResponse> next(
      std::chrono::milliseconds timeout = 2000ms) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout, [this] { return !queue_.empty() || ended_; });
    if (queue_.empty()) return std::nullopt;
    auto response = std::move(queue_.front());
    queue_.pop_front();
    return response;
  }

  // The status the stream ended with; waits at most `timeout` for the end.
  std::optional<grpc::Status> finish(std::chrono::milliseconds timeout = 2000ms) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (!cv_.wait_for(lock, timeout, [this] { return ended_; })) return std::nullopt;
    }
    reader_.join();
    return stream_->Finish();
  }

 private:
  void readAll() {
    discovery::DeltaDiscoveryResponse response;
    while (stream_->Read(&response)) {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(response);
      cv_.notify_all();
    }
    std::lock_guard<std::mutex> lock(mu_);
    ended_ = true;
    cv_.notify_all();
  }

  std::unique_ptr<discovery::AggregatedDiscoveryService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<
      grpc::ClientReaderWriter<discovery::DeltaDiscoveryRequest, discovery::DeltaDiscoveryResponse>>
      stream_;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<discovery::DeltaDiscoveryResponse> queue_;
  bool ended_ = false;
};

// Polls `condition` every 5 ms for at most `timeout`; true once it holds.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout = 2000ms) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return condition();
}

// Resource names of a response, in order.
inline std::vector<std::string> namesOf(const discovery::DeltaDiscoveryResponse& response) {
  std::vector<std::string> names;
  for (const auto& resource : response.resources()) names.push_back(resource.name());
  return names;
}

inline std::vector<std::string> removedOf(const discovery::DeltaDiscoveryResponse& response) {
  return {response.removed_resources().begin(), response.removed_resources().end()};
}

}  // namespace ambit::control::xds::testing
