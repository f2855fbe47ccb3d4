#include "core/xds/delta_ads_client.h"

#include <catch2/catch.hpp>

#include "test/control/xds/ads_harness.h"

namespace ambit::xds {
namespace {

using namespace std::chrono_literals;
using control::xds::testing::eventually;
using control::xds::testing::kTestType;
using control::xds::testing::snapshotOf;
using control::xds::testing::testOptions;

// An ADS server on a fixed loopback port, so a test can stop it and start another in its place.
class Server {
 public:
  Server(int port, control::xds::SnapshotPtr snapshot) : ads_(nullptr, testOptions()) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:" + std::to_string(port), grpc::InsecureServerCredentials(),
                             &port_);
    builder.RegisterService(&ads_);
    server_ = builder.BuildAndStart();
    ads_.publish(std::move(snapshot));
  }
  ~Server() {
    ads_.stop();
    server_->Shutdown(std::chrono::system_clock::now() + 1s);
  }
  int port() const { return port_; }
  control::xds::DeltaAdsServer& ads() { return ads_; }

 private:
  control::xds::DeltaAdsServer ads_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

int freePort() {
  Server probe(0, snapshotOf({}));
  return probe.port();
}

// What the client's listener has seen: the latest resource set, name -> value.
struct Seen {
  std::mutex mu;
  std::map<std::string, std::string> values;
  int updates = 0;

  std::map<std::string, std::string> get() {
    std::lock_guard lock(mu);
    return values;
  }
  int count() {
    std::lock_guard lock(mu);
    return updates;
  }
};

DeltaAdsClientOptions options(int port) {
  DeltaAdsClientOptions out;
  out.target = "127.0.0.1:" + std::to_string(port);
  out.credentials = grpc::InsecureChannelCredentials();
  out.node_id = "node1";
  out.type_urls = {kTestType};
  out.initial_backoff = absl::Milliseconds(50);
  out.max_backoff = absl::Milliseconds(400);
  return out;
}

std::unique_ptr<DeltaAdsClient> makeClient(int port, Seen& seen, std::string reject = "") {
  auto validator = [reject](const std::string&, const std::string&,
                            const google::protobuf::Any& body) {
    google::protobuf::StringValue value;
    if (!body.UnpackTo(&value)) return absl::InvalidArgumentError("not a StringValue");
    if (!reject.empty() && value.value() == reject) {
      return absl::InvalidArgumentError("value " + value.value() + " is refused");
    }
    return absl::OkStatus();
  };
  auto listener = [&seen](const std::string&, const ResourceMap& resources) {
    std::lock_guard lock(seen.mu);
    seen.values.clear();
    for (const auto& [name, resource] : resources) {
      google::protobuf::StringValue value;
      resource.body.UnpackTo(&value);
      seen.values[name] = value.value();
    }
    ++seen.updates;
  };
  return std::make_unique<DeltaAdsClient>(options(port), validator, listener);
}

TEST_CASE("the client syncs, ACKs and follows changes") {
  Server server(0, snapshotOf({{"a", "1"}, {"b", "2"}}));
  Seen seen;
  auto client = makeClient(server.port(), seen);
  CHECK_FALSE(client->synced());
  client->start();
  REQUIRE(eventually([&] { return client->synced(); }, 5000ms));
  CHECK(seen.get() == std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}});

  server.ads().publish(snapshotOf({{"a", "1"}, {"c", "3"}}));
  REQUIRE(eventually([&] { return seen.get().count("c") == 1; }, 5000ms));
  CHECK(seen.get() == std::map<std::string, std::string>{{"a", "1"}, {"c", "3"}});
  REQUIRE(eventually([&] { return client->counters().acks == 2; }, 2000ms));
  CHECK(client->counters().nacks == 0);
  // The server records the client's ACK of the latest push.
  REQUIRE(eventually([&] {
    auto status = server.ads().syncStatus();
    return status.size() == 1 && status[0].types.size() == 1 && status[0].node_id == "node1" &&
           status[0].types[0].acked_nonce == status[0].types[0].sent_nonce;
  }));
}

TEST_CASE("an invalid response is NACKed and the last good resources are kept") {
  Server server(0, snapshotOf({{"a", "1"}}));
  Seen seen;
  auto client = makeClient(server.port(), seen, "bad");
  client->start();
  REQUIRE(eventually([&] { return client->synced(); }, 5000ms));

  server.ads().publish(snapshotOf({{"a", "bad"}, {"b", "2"}}));
  REQUIRE(eventually([&] { return client->counters().nacks == 1; }, 5000ms));
  CHECK(seen.get() == std::map<std::string, std::string>{{"a", "1"}});
  CHECK(seen.count() == 1);
  REQUIRE(eventually([&] {
    auto status = server.ads().syncStatus();
    return status.size() == 1 && status[0].types.size() == 1 &&
           status[0].types[0].last_nack.has_value() &&
           status[0].types[0].last_nack->message.find("value bad is refused") != std::string::npos;
  }));
}

TEST_CASE("the client reconnects and resumes from the versions it holds") {
  const int port = freePort();
  Seen seen;
  std::unique_ptr<DeltaAdsClient> client;
  {
    Server first(port, snapshotOf({{"a", "1"}, {"b", "2"}}));
    client = makeClient(port, seen);
    client->start();
    REQUIRE(eventually([&] { return client->synced(); }, 5000ms));
  }
  // While the control plane is away the client keeps what it had.
  REQUIRE(eventually([&] { return !client->counters().connected; }, 5000ms));
  CHECK(seen.get().size() == 2);

  Server second(port, snapshotOf({{"a", "1"}, {"c", "3"}}));
  REQUIRE(eventually([&] { return seen.get().count("c") == 1; }, 10000ms));
  CHECK(seen.get() == std::map<std::string, std::string>{{"a", "1"}, {"c", "3"}});
  CHECK(client->counters().streams >= 2);
  client->stop();
}

TEST_CASE("stop returns promptly while the control plane is unreachable") {
  Seen seen;
  auto client = makeClient(freePort(), seen);
  client->start();
  std::this_thread::sleep_for(100ms);
  const auto started = std::chrono::steady_clock::now();
  client->stop();
  CHECK(std::chrono::steady_clock::now() - started < 3s);
  CHECK_FALSE(client->synced());
}

}  // namespace
}  // namespace ambit::xds
