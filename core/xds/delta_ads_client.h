// A Delta ADS client: one stream to the control plane that subscribes (wildcard) to a fixed list
// of resource types, keeps the last good resources of each type, ACKs what it accepts and NACKs
// what fails validation (keeping the previous resources), and reconnects with capped exponential
// backoff, telling the server what it already has through `initial_resource_versions`.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <absl/time/time.h>
#include <google/protobuf/any.pb.h>
#include <grpcpp/grpcpp.h>

#include "core/status.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"

namespace ambit::xds {

inline constexpr const char* kAddressType = "type.googleapis.com/istio.workload.Address";
inline constexpr const char* kAuthorizationType =
    "type.googleapis.com/istio.security.Authorization";

struct Resource {
  std::string version;
  google::protobuf::Any body;
};
using ResourceMap = std::map<std::string, Resource>;  // name -> resource

struct DeltaAdsClientOptions {
  std::string target;  // host:port
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  std::string server_name;  // TLS name override; empty keeps the target's host
  std::string node_id;
  std::vector<std::string> type_urls;
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(15);
};

class DeltaAdsClient {
 public:
  // Checks one resource of a response; an error NACKs the whole response with its message.
  using Validator = std::function<absl::Status(const std::string& type_url, const std::string& name,
                                               const google::protobuf::Any& body)>;
  // Receives the complete accepted resource set of a type after each accepted response, on the
  // client thread with the client's lock held: it must not call back into the client.
  using Listener = std::function<void(const std::string& type_url, const ResourceMap& resources)>;

  DeltaAdsClient(DeltaAdsClientOptions options, Validator validator, Listener listener);
  ~DeltaAdsClient();

  void start();
  void stop();

  // True once every type has been answered at least once (kept across reconnects).
  bool synced() const;

  struct Counters {
    uint64_t streams = 0;  // streams opened
    uint64_t acks = 0;
    uint64_t nacks = 0;
    bool connected = false;
    std::string last_error;
  };
  Counters counters() const;

 private:
  void run();
  // One stream from open to close; returns why it ended and whether it received a response.
  grpc::Status runStream(bool& got_response);
  absl::Status applyResponse(const envoy::service::discovery::v3::DeltaDiscoveryResponse& response);

  const DeltaAdsClientOptions options_;
  const Validator validator_;
  const Listener listener_;
  std::shared_ptr<grpc::Channel> channel_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  grpc::ClientContext* context_ = nullptr;        // the open stream's, for cancellation
  std::map<std::string, ResourceMap> resources_;  // type -> accepted resources
  std::set<std::string> answered_types_;
  Counters counters_;
  std::thread thread_;
};

}  // namespace ambit::xds
