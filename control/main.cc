// ambit-control: the control plane of Ambit.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "control/control_plane.h"
#include "core/cli/flags.h"
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
                                 "<token> node <node-name>" or "<token> waypoint <spiffe-id>";
                                 read again on SIGHUP
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

}  // namespace

int main(int argc, char** argv) {
  ambit::control::ControlPlaneOptions options;
  std::string log_level = "info";
  ambit::cli::Flags flags("ambit-control", kUsage);
  flags.text("--config-dir", &options.config_dir);
  flags.text("--state-dir", &options.state_dir);
  flags.text("--tokens", &options.tokens_file);
  flags.text("--cacerts", &options.cacerts_dir);
  flags.text("--grpc-address", &options.grpc_address);
  flags.text("--plaintext-grpc-address", &options.plaintext_grpc_address);
  flags.text("--debug-address", &options.debug_address);
  flags.text("--trust-domain", &options.translation.trust_domain);
  flags.text("--log-level", &log_level);
  flags.number("--debug-port", 0, 65535,
               [&](long v) { options.debug_port = static_cast<uint16_t>(v); });
  flags.number("--debounce-ms", 0, 60000,
               [&](long v) { options.debounce = std::chrono::milliseconds(v); });
  if (std::optional<int> exit_code = flags.parse(argc, argv)) return *exit_code;
  if (auto status = ambit::log::setLevel(log_level); !status.ok()) {
    return flags.usageError(std::string(status.message()));
  }

  // Signals are taken synchronously by this thread; every other thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
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
  for (;;) {
    sigwait(&signals, &signal);
    if (signal != SIGHUP) break;
    if (auto status = (*plane)->reloadTokens(); !status.ok()) {
      log->error("SIGHUP: tokens not reloaded: {}", std::string(status.message()));
    }
  }
  log->info("signal {}: shutting down", signal);
  (*plane)->stop();
  return 0;
}
