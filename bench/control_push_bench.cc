// Config push benchmark of ambit-control: N workloads and M services pushed to S Delta ADS
// subscribers. Starts the real binary on a generated config directory, connects S clients over
// loopback and measures: time to full sync of all subscribers, time for one change to reach all
// of them, and the control plane's RSS. Prints JSON, then a Markdown row.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "envoy/service/discovery/v3/ads.grpc.pb.h"

namespace {

namespace fs = std::filesystem;
namespace discovery = envoy::service::discovery::v3;
using Clock = std::chrono::steady_clock;

constexpr const char* kAddressType = "type.googleapis.com/istio.workload.Address";
constexpr const char* kToken = "bench-node-token-0123456789";

struct Options {
  std::string control;
  int workloads = 10000;
  int services = 1000;
  int subscribers = 100;
  int port = 15912;
  int debug_port = 15914;
  int debounce_ms = 100;
};

std::string podYaml(int i, int services) {
  std::ostringstream out;
  const int node = i % 4;
  out << "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app-" << i
      << "\n  namespace: bench\n  uid: uid-" << i << "\n  labels: {app: svc-" << (i % services)
      << ", version: v1}\nspec:\n  nodeName: node-" << node << "\n  serviceAccountName: sa-"
      << (i % services)
      << "\n  containers: [{name: app, image: app, ports: [{name: http, containerPort: 8080}]}]\n"
      << "status:\n  phase: Running\n  podIP: 10." << (1 + i / 65536) << "." << (i / 256 % 256)
      << "." << (i % 256) << "\n  conditions: [{type: Ready, status: \"True\"}]\n---\n";
  return out.str();
}

std::string serviceYaml(int i) {
  std::ostringstream out;
  out << "apiVersion: v1\nkind: Service\nmetadata: {name: svc-" << i
      << ", namespace: bench}\nspec:\n  clusterIP: 10.96." << (i / 256) << "." << (i % 256)
      << "\n  selector: {app: svc-" << i
      << "}\n  ports: [{name: http, port: 80, targetPort: http}]\n---\n";
  return out.str();
}

long rssKib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// One subscriber: a Delta ADS stream with a wildcard Address subscription that ACKs everything.
class Subscriber {
 public:
  Subscriber(std::shared_ptr<grpc::Channel> channel, int id)
      : stub_(discovery::AggregatedDiscoveryService::NewStub(channel)), id_(id) {}

  void start() {
    context_.AddMetadata("authorization", std::string("Bearer ") + kToken);
    context_.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(5));
    stream_ = stub_->DeltaAggregatedResources(&context_);
    send("");
    thread_ = std::thread([this] { readLoop(); });
  }
  void finish() {
    stream_->WritesDone();
    context_.TryCancel();
    thread_.join();
  }
  size_t resources() const { return resources_.load(); }
  // Time at which the resource named `name` was last received.
  Clock::time_point receivedAt(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    return name == last_name_ ? last_time_ : Clock::time_point{};
  }

 private:
  void send(const std::string& nonce) {
    discovery::DeltaDiscoveryRequest request;
    request.set_type_url(kAddressType);
    request.mutable_node()->set_id("bench~" + std::to_string(id_));
    request.set_response_nonce(nonce);
    std::lock_guard<std::mutex> lock(write_mu_);
    stream_->Write(request);
  }
  void readLoop() {
    discovery::DeltaDiscoveryResponse response;
    while (stream_->Read(&response)) {
      const auto now = Clock::now();
      resources_ += static_cast<size_t>(response.resources_size());
      if (response.resources_size() > 0) {
        std::lock_guard<std::mutex> lock(mu_);
        last_name_ = response.resources(response.resources_size() - 1).name();
        last_time_ = now;
      }
      send(response.nonce());
    }
  }

  std::unique_ptr<discovery::AggregatedDiscoveryService::Stub> stub_;
  int id_;
  grpc::ClientContext context_;
  std::unique_ptr<
      grpc::ClientReaderWriter<discovery::DeltaDiscoveryRequest, discovery::DeltaDiscoveryResponse>>
      stream_;
  std::thread thread_;
  std::mutex write_mu_;
  std::atomic<size_t> resources_{0};
  std::mutex mu_;
  std::string last_name_;
  Clock::time_point last_time_;
};

bool waitUntil(const std::function<bool()>& done, std::chrono::seconds limit) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return done();
}

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--control")
      o.control = value;
    else if (flag == "--workloads")
      o.workloads = std::stoi(value);
    else if (flag == "--services")
      o.services = std::stoi(value);
    else if (flag == "--subscribers")
      o.subscribers = std::stoi(value);
    else if (flag == "--port")
      o.port = std::stoi(value);
    else if (flag == "--debug-port")
      o.debug_port = std::stoi(value);
    else {
      std::cerr << "usage: control_push_bench --control PATH [--workloads N] [--services N] "
                   "[--subscribers N] [--port P] [--debug-port P]\n";
      return 2;
    }
  }
  if (o.control.empty()) {
    std::cerr << "control_push_bench: --control PATH is required\n";
    return 2;
  }
  const fs::path work =
      fs::temp_directory_path() / ("ambit-push-bench-" + std::to_string(getpid()));
  fs::create_directories(work / "config");
  {
    std::ofstream ns(work / "config" / "00-namespace.yaml");
    ns << "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: bench\n  labels: "
          "{istio.io/dataplane-mode: ambient}\n";
    std::ofstream services(work / "config" / "10-services.yaml");
    for (int i = 0; i < o.services; ++i) services << serviceYaml(i);
    // Pods in files of 500, as a directory of many manifests would hold them.
    for (int f = 0; f * 500 < o.workloads; ++f) {
      std::ofstream pods(work / "config" / ("20-pods-" + std::to_string(f) + ".yaml"));
      for (int i = f * 500; i < std::min(o.workloads, (f + 1) * 500); ++i)
        pods << podYaml(i, o.services);
    }
    std::ofstream(work / "tokens") << kToken << " node node-0\n";
  }

  const pid_t control = fork();
  if (control == 0) {
    const std::string plain = "127.0.0.1:" + std::to_string(o.port);
    const std::string tls = "127.0.0.1:" + std::to_string(o.port + 1);
    execl(o.control.c_str(), o.control.c_str(), "--config-dir", (work / "config").c_str(),
          "--state-dir", (work / "state").c_str(), "--tokens", (work / "tokens").c_str(),
          "--grpc-address", tls.c_str(), "--plaintext-grpc-address", plain.c_str(), "--debug-port",
          std::to_string(o.debug_port).c_str(), "--debounce-ms",
          std::to_string(o.debounce_ms).c_str(), "--log-level", "warn", nullptr);
    _exit(127);
  }
  auto channelArgs = grpc::ChannelArguments();
  channelArgs.SetMaxReceiveMessageSize(256 * 1024 * 1024);
  // Each subscriber gets its own connection, as separate agents would.
  std::vector<std::unique_ptr<Subscriber>> subscribers;
  const size_t expected = static_cast<size_t>(o.workloads + o.services);
  int status = 0;
  auto channelFor = [&](int i) {
    grpc::ChannelArguments args = channelArgs;
    args.SetInt("bench.subscriber", i);  // distinct args: a distinct connection
    return grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(o.port),
                                     grpc::InsecureChannelCredentials(), args);
  };
  // Wait until the control plane serves the whole config (startup is not part of the figure).
  {
    Subscriber probe(channelFor(-1), -1);
    const bool up = waitUntil(
        [&] {
          auto ch = channelFor(-1);
          return ch->WaitForConnected(std::chrono::system_clock::now() +
                                      std::chrono::milliseconds(200));
        },
        std::chrono::seconds(120));
    if (!up) {
      std::cerr << "control_push_bench: ambit-control did not start\n";
      kill(control, SIGTERM);
      waitpid(control, &status, 0);
      return 1;
    }
    probe.start();
    waitUntil([&] { return probe.resources() >= expected; }, std::chrono::seconds(120));
    probe.finish();
  }
  const long rssIdle = rssKib(control);

  const auto syncStart = Clock::now();
  for (int i = 0; i < o.subscribers; ++i) {
    subscribers.push_back(std::make_unique<Subscriber>(channelFor(i), i));
    subscribers.back()->start();
  }
  const bool synced = waitUntil(
      [&] {
        for (const auto& s : subscribers) {
          if (s->resources() < expected) return false;
        }
        return true;
      },
      std::chrono::seconds(120));
  const auto syncEnd = Clock::now();
  const long rssSynced = rssKib(control);

  // One change: a new service in its own file.
  const auto changeStart = Clock::now();
  std::ofstream(work / "config" / "30-change.yaml") << serviceYaml(o.services);
  const std::string changed =
      "bench/svc-" + std::to_string(o.services) + ".bench.svc.cluster.local";
  Clock::time_point lastArrival{};
  const bool delivered = waitUntil(
      [&] {
        for (const auto& s : subscribers) {
          const auto t = s->receivedAt(changed);
          if (t == Clock::time_point{}) return false;
          lastArrival = std::max(lastArrival, t);
        }
        return true;
      },
      std::chrono::seconds(60));
  const long rssAfter = rssKib(control);

  for (auto& s : subscribers) s->finish();
  kill(control, SIGTERM);
  waitpid(control, &status, 0);
  fs::remove_all(work);

  const double syncMs = ms(syncEnd - syncStart);
  const double changeMs = ms(lastArrival - changeStart);
  std::printf(
      "{\"workloads\": %d, \"services\": %d, \"subscribers\": %d, \"full_sync_ok\": %s, "
      "\"full_sync_ms\": %.1f, \"change_ok\": %s, \"change_to_all_ms\": %.1f, "
      "\"debounce_ms\": %d, \"settle_ms\": 50, \"rss_idle_mib\": %.1f, \"rss_synced_mib\": %.1f, "
      "\"rss_after_change_mib\": %.1f}\n",
      o.workloads, o.services, o.subscribers, synced ? "true" : "false", syncMs,
      delivered ? "true" : "false", changeMs, o.debounce_ms, rssIdle / 1024.0, rssSynced / 1024.0,
      rssAfter / 1024.0);
  std::printf(
      "| %d | %d | %d | %.0f ms | %.0f ms (of which %d ms debounce + 50 ms file settle) | %.0f MiB "
      "| %.0f MiB |\n",
      o.workloads, o.services, o.subscribers, syncMs, changeMs, o.debounce_ms, rssIdle / 1024.0,
      rssSynced / 1024.0);
  return synced && delivered ? 0 : 1;
}
