// ambit-control: the control plane of Ambit.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "control/control_plane.h"
#include "core/log.h"

namespace {

constexpr const char* kUsage =
    R"(Usage: ambit-control --config-dir DIR --state-dir DIR --tokens FILE [options]

Serves the mesh configuration found in DIR (Kubernetes and Istio YAML, watched for changes) to
node agents and waypoints over Delta ADS, and signs their workload certificates.

Options:
  --config-dir DIR               Kubernetes and Istio YAML, watched with inotify (required)
  --state-dir DIR                where the CA root is created on first start and kept (required)
  --tokens FILE                  bearer tokens of node agents and waypoints (required); lines of
                                 "<token> node <node-name>" or "<token> waypoint <spiffe-id>"
  --cacerts DIR                  use a plug-in CA (Istio's cacerts layout) instead of the root
  --grpc-address HOST:PORT       ADS and CA over TLS (default 0.0.0.0:15012)
  --plaintext-grpc-address H:P   also serve without TLS; for tests only (default: off)
  --debug-address IP             debug, metrics and readiness endpoints (default 127.0.0.1)
  --debug-port PORT              (default 15014)
  --trust-domain NAME            SPIFFE trust domain (default cluster.local)
  --debounce-ms N                coalesce config changes within N ms into one push (default 100)
  --log-level LEVEL              trace, debug, info, warn, error or off (default info)
  -h, --help                     show this help
)";

int usageError(const std::string& message) {
  std::cerr << "ambit-control: " << message << "\n(see 'ambit-control --help')\n";
  return 2;
}

bool parseNumber(const std::string& text, long min, long max, long& out) {
  char* end = nullptr;
  out = std::strtol(text.c_str(), &end, 10);
  return !text.empty() && *end == '\0' && out >= min && out <= max;
}

}  // namespace

int main(int argc, char** argv) {
  ambit::control::ControlPlaneOptions options;
  std::string log_level = "info";
  std::map<std::string, std::string*> strings = {
      {"--config-dir", &options.config_dir},
      {"--state-dir", &options.state_dir},
      {"--tokens", &options.tokens_file},
      {"--cacerts", &options.cacerts_dir},
      {"--grpc-address", &options.grpc_address},
      {"--plaintext-grpc-address", &options.plaintext_grpc_address},
      {"--debug-address", &options.debug_address},
      {"--trust-domain", &options.translation.trust_domain},
      {"--log-level", &log_level},
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
    const bool known = strings.count(flag) > 0 || flag == "--debug-port" || flag == "--debounce-ms";
    if (!known) return usageError("unknown option " + args[i]);
    if (!inline_value) {
      if (i + 1 >= args.size()) return usageError(flag + " needs a value");
      value = args[++i];
    }
    long number = 0;
    if (flag == "--debug-port") {
      if (!parseNumber(value, 0, 65535, number)) return usageError("--debug-port must be 0..65535");
      options.debug_port = static_cast<uint16_t>(number);
    } else if (flag == "--debounce-ms") {
      if (!parseNumber(value, 0, 60000, number))
        return usageError("--debounce-ms must be 0..60000");
      options.debounce = std::chrono::milliseconds(number);
    } else {
      *strings[flag] = value;
    }
  }
  if (auto status = ambit::log::setLevel(log_level); !status.ok()) {
    return usageError(std::string(status.message()));
  }

  // Signals are taken synchronously by this thread; every other thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto log = ambit::log::get("control");
  auto plane = ambit::control::ControlPlane::create(options);
  if (!plane.ok()) {
    log->error("{}", std::string(plane.status().message()));
    return 1;
  }
  if (auto status = (*plane)->start(); !status.ok()) {
    log->error("{}", std::string(status.message()));
    return 1;
  }
  int signal = 0;
  sigwait(&signals, &signal);
  log->info("signal {}: shutting down", signal);
  (*plane)->stop();
  return 0;
}
