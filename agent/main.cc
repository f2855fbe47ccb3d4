// ambit-agent: the node agent. Enrolls this node's ambient pods, captures their TCP traffic and
// relays it, with config from ambit-control.
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "agent/node_agent.h"
#include "core/log.h"

namespace {

constexpr const char* kUsage =
    R"(Usage: ambit-agent --node NAME --control-address HOST:PORT --control-ca FILE --token-file FILE [options]

The node agent: enrolls this node's pods whose namespace is labelled
istio.io/dataplane-mode=ambient, captures their TCP connections inside each pod's network
namespace and relays them, with config from ambit-control.

  --node NAME                    the node this agent serves (required)
  --control-address HOST:PORT    ambit-control's gRPC address, TLS (required)
  --control-ca FILE              PEM root that signed the control plane's certificate (required)
  --control-server-name NAME     name expected in the control plane's certificate
                                 (default ambit-control)
  --token-file FILE              bearer token of this node for the control plane (required)
  --cni-socket PATH              Unix socket the CNI plugin reports pods to
                                 (default /var/run/ambit/cni.sock)
  --pod-dir DIR                  pod records written by the CNI plugin (default /var/run/ambit/pods)
  --redirect MODE                capture mode: nftables (default nftables)
  --admin-address IP             address of the metrics and readiness endpoints (default 127.0.0.1)
  --metrics-port PORT            /metrics and /debug/pods (default 15020)
  --readiness-port PORT          /healthz/ready (default 15021)
  --connect-timeout-ms N         upstream connect timeout (default 10000)
  --idle-timeout-s N             close a relayed connection idle this long (default 3600)
  --log-level LEVEL              trace, debug, info, warn, error or off (default info)
  -h, --help                     show this help
)";

int usageError(const std::string& message) {
  std::cerr << "ambit-agent: " << message << "\n(see 'ambit-agent --help')\n";
  return 2;
}

bool parseNumber(const std::string& text, long min, long max, long& out) {
  char* end = nullptr;
  out = std::strtol(text.c_str(), &end, 10);
  return !text.empty() && *end == '\0' && out >= min && out <= max;
}

}  // namespace

int main(int argc, char** argv) {
  ambit::agent::NodeAgentOptions options;
  std::string log_level = "info";
  std::map<std::string, std::string*> strings = {
      {"--node", &options.node},
      {"--control-address", &options.control_address},
      {"--control-ca", &options.control_ca_file},
      {"--control-server-name", &options.control_server_name},
      {"--token-file", &options.token_file},
      {"--cni-socket", &options.cni_socket},
      {"--pod-dir", &options.pod_dir},
      {"--redirect", &options.redirect},
      {"--admin-address", &options.admin_address},
      {"--log-level", &log_level},
  };
  // name -> (min, max, setter)
  struct NumberFlag {
    long min;
    long max;
    std::function<void(long)> set;
  };
  std::map<std::string, NumberFlag> numbers = {
      {"--metrics-port", {0, 65535, [&](long v) { options.metrics_port = uint16_t(v); }}},
      {"--readiness-port", {0, 65535, [&](long v) { options.readiness_port = uint16_t(v); }}},
      {"--connect-timeout-ms",
       {1, 600000,
        [&](long v) { options.pods.proxy.connect_timeout = std::chrono::milliseconds(v); }}},
      {"--idle-timeout-s",
       {1, 86400 * 7,
        [&](long v) { options.pods.proxy.relay.idle_timeout = std::chrono::seconds(v); }}},
  };
  const std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    std::string value;
    bool inline_value = false;
    if (const size_t eq = flag.find('='); flag.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
      inline_value = true;
    }
    if (flag == "-h" || flag == "--help") {
      std::cout << kUsage;
      return 0;
    }
    if (strings.count(flag) == 0 && numbers.count(flag) == 0) {
      return usageError("unknown option " + args[i]);
    }
    if (!inline_value) {
      if (i + 1 >= args.size()) return usageError(flag + " needs a value");
      value = args[++i];
    }
    if (auto number = numbers.find(flag); number != numbers.end()) {
      long parsed = 0;
      if (!parseNumber(value, number->second.min, number->second.max, parsed)) {
        return usageError(flag + " must be " + std::to_string(number->second.min) + ".." +
                          std::to_string(number->second.max));
      }
      number->second.set(parsed);
    } else {
      *strings[flag] = value;
    }
  }
  for (const char* required : {"--node", "--control-address", "--control-ca", "--token-file"}) {
    if (strings[required]->empty()) return usageError(std::string(required) + " is required");
  }
  if (auto status = ambit::log::setLevel(log_level); !status.ok()) {
    return usageError(std::string(status.message()));
  }

  auto log = ambit::log::get("agent");
  auto agent = ambit::agent::NodeAgent::create(options);
  if (!agent.ok()) {
    log->error("{}", std::string(agent.status().message()));
    return 1;
  }
  (*agent)->run();
  return 0;
}
