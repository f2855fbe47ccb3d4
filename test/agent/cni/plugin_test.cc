// Runs the ambit-cni binary as the container runtime would: env, network config on stdin,
// result or error on stdout.
#include <sys/stat.h>

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <catch2/catch.hpp>

#include "agent/cni/cni_server.h"
#include "agent/cni/pod_records.h"
#include "test/agent/cni/test_util.h"

namespace ambit::agent::cni {
namespace {

using google::protobuf::Struct;
using testing::TempDir;

const char kPrevResult[] = R"({
  "cniVersion": "1.0.0",
  "interfaces": [{"name": "eth0", "mac": "2a:8d:1c:00:00:05", "sandbox": "/var/run/netns/x"}],
  "ips": [
    {"address": "10.244.1.5/24", "gateway": "10.244.1.1", "interface": 0},
    {"address": "fd00:10:244:1::5/64", "interface": 0}
  ],
  "routes": [{"dst": "0.0.0.0/0"}],
  "dns": {}
})";

Struct parseJson(const std::string& text) {
  Struct parsed;
  const auto status = google::protobuf::util::JsonStringToMessage(text, &parsed);
  INFO(text);
  REQUIRE(status.ok());
  return parsed;
}

std::string field(const Struct& object, const std::string& key) {
  const auto it = object.fields().find(key);
  if (it == object.fields().end()) return "<missing>";
  if (it->second.has_number_value())
    return std::to_string(static_cast<int>(it->second.number_value()));
  return it->second.string_value();
}

class Plugin {
 public:
  Plugin() : records_(tmp_.file("pods")) {}

  std::string socketPath() const { return tmp_.file("agent.sock"); }
  const PodRecords& records() const { return records_; }

  std::string config(bool with_prev_result = true, const std::string& version = "1.0.0") const {
    std::string out = R"({"cniVersion":")" + version +
                      R"(","name":"k8s-pod-network","type":"ambit-cni","agentSocket":")" +
                      socketPath() + R"(","podDir":")" + records_.dir() + "\"";
    if (with_prev_result) out += std::string(",\"prevResult\":") + kPrevResult;
    return out + "}";
  }

  std::map<std::string, std::string> env(const std::string& command) const {
    return {{"CNI_COMMAND", command},
            {"CNI_CONTAINERID", "0123456789abcdef"},
            {"CNI_NETNS", testing::kNetnsPath},
            {"CNI_IFNAME", "eth0"},
            {"CNI_PATH", "/opt/cni/bin"},
            {"CNI_ARGS",
             "IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=cart-0;"
             "K8S_POD_INFRA_CONTAINER_ID=0123456789abcdef;K8S_POD_UID=8a6f-uid"}};
  }

  testing::RunResult run(const std::map<std::string, std::string>& env,
                         const std::string& stdin_text) const {
    auto result = testing::runProcess(AMBIT_CNI_BINARY, env, stdin_text, tmp_.path());
    UNSCOPED_INFO("stdout: " << result.out << "\nstderr: " << result.err);
    return result;
  }

  testing::RunResult run(const std::string& command) const { return run(env(command), config()); }

 private:
  TempDir tmp_;
  PodRecords records_;
};

void requireError(const testing::RunResult& result, int code) {
  CHECK(result.exit_code == 1);
  const Struct error = parseJson(result.out);
  CHECK(field(error, "code") == std::to_string(code));
  CHECK(field(error, "msg") != "<missing>");
  CHECK(field(error, "cniVersion") != "<missing>");
}

TEST_CASE("ambit-cni VERSION lists the supported versions", "[cni][plugin]") {
  Plugin plugin;
  const auto result = plugin.run({{"CNI_COMMAND", "VERSION"}}, R"({"cniVersion":"1.0.0"})");
  CHECK(result.exit_code == 0);
  CHECK(result.out ==
        "{\"cniVersion\":\"1.0.0\",\"supportedVersions\":[\"0.3.0\",\"0.3.1\",\"0.4.0\","
        "\"1.0.0\"]}\n");
}

TEST_CASE("ambit-cni reports bad input with the spec's error codes", "[cni][plugin]") {
  Plugin plugin;
  SECTION("malformed stdin is code 6") {
    requireError(plugin.run(plugin.env("ADD"), "{\"cniVersion\": "), 6);
    requireError(plugin.run(plugin.env("ADD"), ""), 6);
  }
  SECTION("an unknown or missing command is code 4") {
    requireError(plugin.run(plugin.env("FROB"), plugin.config()), 4);
    auto env = plugin.env("ADD");
    env.erase("CNI_COMMAND");
    requireError(plugin.run(env, plugin.config()), 4);
  }
  SECTION("a missing CNI_NETNS on ADD is code 4") {
    auto env = plugin.env("ADD");
    env.erase("CNI_NETNS");
    requireError(plugin.run(env, plugin.config()), 4);
  }
  SECTION("a network namespace that does not exist is code 3, and nothing is recorded") {
    auto env = plugin.env("ADD");
    env["CNI_NETNS"] = "/var/run/netns/does-not-exist";
    requireError(plugin.run(env, plugin.config()), 3);
    CHECK(absl::IsNotFound(plugin.records().read("8a6f-uid").status()));
  }
  SECTION("an invalid network config is code 7, an unsupported version code 1") {
    requireError(plugin.run(plugin.env("ADD"), R"({"cniVersion":"1.0.0","type":"ambit-cni"})"), 7);
    requireError(
        plugin.run(plugin.env("ADD"), R"({"cniVersion":"1.0.0","name":"n","type":"t","podDir":5})"),
        7);
    requireError(plugin.run(plugin.env("ADD"), plugin.config(true, "9.9.9")), 1);
  }
}

TEST_CASE("ADD with no agent listening succeeds, passes prevResult on and records the pod",
          "[cni][plugin]") {
  Plugin plugin;
  const auto result = plugin.run("ADD");
  REQUIRE(result.exit_code == 0);
  CHECK_THAT(result.err, Catch::Contains("agent not reached"));

  Struct expected = parseJson(kPrevResult);
  const Struct got = parseJson(result.out);
  CHECK(google::protobuf::util::MessageDifferencer::Equals(expected, got));

  const auto record = plugin.records().read("8a6f-uid");
  REQUIRE(record.ok());
  CHECK(record->namespace_() == "shop");
  CHECK(record->name() == "cart-0");
  CHECK(record->container_id() == "0123456789abcdef");
  CHECK(record->netns_path() == testing::kNetnsPath);
  REQUIRE(record->ips_size() == 2);
  CHECK(record->ips(0) == "10.244.1.5");
  CHECK(record->ips(1) == "fd00:10:244:1::5");
  struct stat st {};
  REQUIRE(::stat(plugin.records().pathFor("8a6f-uid").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("ADD without prevResult answers an empty result in the config's version",
          "[cni][plugin]") {
  Plugin plugin;
  const auto result = plugin.run(plugin.env("ADD"), plugin.config(false, "0.4.0"));
  REQUIRE(result.exit_code == 0);
  const Struct got = parseJson(result.out);
  CHECK(field(got, "cniVersion") == "0.4.0");
  REQUIRE(got.fields().count("ips") == 1);
  CHECK(got.fields().at("ips").list_value().values_size() == 0);
  CHECK(got.fields().at("interfaces").list_value().values_size() == 0);
  CHECK(plugin.records().read("8a6f-uid")->ips_size() == 0);
}

TEST_CASE("ADD hands the pod and its netns fd to a listening agent", "[cni][plugin]") {
  Plugin plugin;
  std::mutex mu;
  std::optional<ambit::cni::v1::PodInfo> added;
  testing::Inode netns;
  CniHandlers handlers;
  handlers.on_add = [&](const ambit::cni::v1::PodInfo& pod, UniqueFd fd) {
    std::lock_guard<std::mutex> lock(mu);
    added = pod;
    netns = testing::inodeOfFd(fd.get());
    return absl::OkStatus();
  };
  CniServer server(plugin.socketPath(), handlers);
  REQUIRE(server.start().ok());

  const auto result = plugin.run("ADD");
  REQUIRE(result.exit_code == 0);
  CHECK(field(parseJson(result.out), "cniVersion") == "1.0.0");
  std::lock_guard<std::mutex> lock(mu);
  REQUIRE(added.has_value());
  CHECK(added->uid() == "8a6f-uid");
  CHECK(added->namespace_() == "shop");
  CHECK(added->name() == "cart-0");
  REQUIRE(added->ips_size() == 2);
  CHECK(added->ips(0) == "10.244.1.5");
  CHECK(added->ips(1) == "fd00:10:244:1::5");
  CHECK(netns == testing::inodeOfPath(testing::kNetnsPath));
  CHECK(plugin.records().read("8a6f-uid").ok());
}

TEST_CASE("ADD succeeds when the agent refuses the pod, keeping the record", "[cni][plugin]") {
  Plugin plugin;
  CniHandlers handlers;
  handlers.on_add = [](const ambit::cni::v1::PodInfo&, UniqueFd) {
    return absl::UnavailableError("pod listener not ready");
  };
  CniServer server(plugin.socketPath(), handlers);
  REQUIRE(server.start().ok());
  const auto result = plugin.run("ADD");
  CHECK(result.exit_code == 0);
  CHECK_THAT(result.err, Catch::Contains("pod listener not ready"));
  CHECK(plugin.records().read("8a6f-uid").ok());
}

TEST_CASE("DEL removes the record and tells the agent; twice is fine; CHECK then fails",
          "[cni][plugin]") {
  Plugin plugin;
  std::mutex mu;
  int deletes = 0;
  std::string deleted_uid;
  CniHandlers handlers;
  handlers.on_add = [](const ambit::cni::v1::PodInfo&, UniqueFd) { return absl::OkStatus(); };
  handlers.on_del = [&](const ambit::cni::v1::DelPod& pod) {
    std::lock_guard<std::mutex> lock(mu);
    ++deletes;
    deleted_uid = pod.uid();
    return absl::OkStatus();
  };
  CniServer server(plugin.socketPath(), handlers);
  REQUIRE(server.start().ok());

  REQUIRE(plugin.run("ADD").exit_code == 0);
  const auto check = plugin.run("CHECK");
  CHECK(check.exit_code == 0);
  CHECK(check.out.empty());

  const auto first = plugin.run("DEL");
  CHECK(first.exit_code == 0);
  CHECK(first.out.empty());
  CHECK(absl::IsNotFound(plugin.records().read("8a6f-uid").status()));
  {
    std::lock_guard<std::mutex> lock(mu);
    CHECK(deletes == 1);
    CHECK(deleted_uid == "8a6f-uid");
  }

  // The runtime may repeat DEL, without a netns, after the agent is gone.
  server.stop();
  auto env = plugin.env("DEL");
  env.erase("CNI_NETNS");
  CHECK(plugin.run(env, plugin.config(false)).exit_code == 0);

  requireError(plugin.run("CHECK"), 3);
}

TEST_CASE("a late DEL of an old sandbox leaves the pod's current sandbox alone", "[cni][plugin]") {
  Plugin plugin;
  std::mutex mu;
  int deletes = 0;
  CniHandlers handlers;
  handlers.on_add = [](const ambit::cni::v1::PodInfo&, UniqueFd) { return absl::OkStatus(); };
  handlers.on_del = [&](const ambit::cni::v1::DelPod&) {
    std::lock_guard<std::mutex> lock(mu);
    ++deletes;
    return absl::OkStatus();
  };
  CniServer server(plugin.socketPath(), handlers);
  REQUIRE(server.start().ok());

  auto add = plugin.env("ADD");
  add["CNI_CONTAINERID"] = "new-sandbox";
  REQUIRE(plugin.run(add, plugin.config()).exit_code == 0);
  auto del = plugin.env("DEL");
  del["CNI_CONTAINERID"] = "old-sandbox";
  CHECK(plugin.run(del, plugin.config()).exit_code == 0);

  const auto record = plugin.records().read("8a6f-uid");
  REQUIRE(record.ok());
  CHECK(record->container_id() == "new-sandbox");
  std::lock_guard<std::mutex> lock(mu);
  CHECK(deletes == 0);
}

TEST_CASE("a pod without K8S_POD_UID is keyed by namespace/name", "[cni][plugin]") {
  Plugin plugin;
  auto env = plugin.env("ADD");
  env["CNI_ARGS"] = "K8S_POD_NAMESPACE=shop;K8S_POD_NAME=cart-0";
  REQUIRE(plugin.run(env, plugin.config()).exit_code == 0);
  const auto record = plugin.records().read("shop/cart-0");
  REQUIRE(record.ok());
  CHECK(record->uid() == "shop/cart-0");
  CHECK(std::filesystem::path(plugin.records().pathFor("shop/cart-0")).parent_path() ==
        plugin.records().dir());

  env["CNI_COMMAND"] = "DEL";
  REQUIRE(plugin.run(env, plugin.config()).exit_code == 0);
  CHECK(absl::IsNotFound(plugin.records().read("shop/cart-0").status()));
}

TEST_CASE("STATUS and GC answer success", "[cni][plugin]") {
  Plugin plugin;
  CHECK(plugin.run("STATUS").exit_code == 0);
  CHECK(plugin.run("GC").exit_code == 0);
}

}  // namespace
}  // namespace ambit::agent::cni
