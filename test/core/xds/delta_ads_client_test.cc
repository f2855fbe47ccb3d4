#include "core/xds/delta_ads_client.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "test/control/xds/ads_harness.h"

namespace ambit::xds {
namespace {

using namespace std::chrono_literals;
using control::xds::testing::eventually;
using control::xds::testing::kTestType;
using control::xds::testing::snapshotOf;
using control::xds::testing::testOptions;

// A loopback port held for a test's whole life, so that a test can stop its server and start
// another on the same port without another process taking the port in between. The socket is
// bound with SO_REUSEPORT but never listens: connections to the port are refused while no server
// is up, and gRPC's listeners, which set SO_REUSEPORT on Linux, can bind the port beside it. The
// kernel never hands out a port bound this way to a bind to port 0.
class ReservedPort {
 public:
  ReservedPort() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    REQUIRE(fd_ >= 0);
    const int one = 1;
    REQUIRE(::setsockopt(fd_, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) == 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    socklen_t length = sizeof address;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port_ = ntohs(address.sin_port);
  }
  ~ReservedPort() { ::close(fd_); }
  ReservedPort(const ReservedPort&) = delete;
  ReservedPort& operator=(const ReservedPort&) = delete;

  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

// An ADS server on 127.0.0.1: on a port of the kernel's choice (0), or on a ReservedPort's.
class Server {
 public:
  Server(int port, control::xds::SnapshotPtr snapshot) : ads_(nullptr, testOptions()) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:" + std::to_string(port), grpc::InsecureServerCredentials(),
                             &port_);
    builder.RegisterService(&ads_);
    server_ = builder.BuildAndStart();
    REQUIRE(server_ != nullptr);
    REQUIRE(port_ != 0);
    if (port != 0) REQUIRE(port_ == port);
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

std::unique_ptr<DeltaAdsClient> makeClient(int port, Seen& seen, const std::string& reject = "") {
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
  const ReservedPort reserved;
  const int port = reserved.port();
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
  // Nothing listens on a reserved port: every connection attempt is refused.
  const ReservedPort reserved;
  Seen seen;
  auto client = makeClient(reserved.port(), seen);
  client->start();
  // The client has opened its stream, which waits for the channel to connect: stop must cancel
  // that wait rather than sit in it.
  REQUIRE(eventually([&] { return client->counters().streams == 1; }, 5000ms));
  const auto started = std::chrono::steady_clock::now();
  client->stop();
  CHECK(std::chrono::steady_clock::now() - started < 3s);
  CHECK_FALSE(client->synced());
}

}  // namespace
}  // namespace ambit::xds
