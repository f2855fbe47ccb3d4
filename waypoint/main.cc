// ambit-waypoint: the L7 proxy of a waypoint Gateway. Takes HBONE tunnels from node agents and
// routes the HTTP inside them by the VirtualServices and DestinationRules of the services bound
// to it.
#include <csignal>
#include <string>
#include <thread>

#include "core/cli/flags.h"
#include "core/log.h"
#include "waypoint/waypoint.h"

namespace {

constexpr const char* kUsage =
    R"(Usage: ambit-waypoint --namespace NS --name NAME --control-address HOST:PORT --control-ca FILE --token-file FILE [options]

The waypoint proxy of the Gateway NS/NAME (class istio-waypoint): runs as the identity
spiffe://<trust-domain>/ns/NS/sa/NAME, takes HBONE tunnels on port 15008 and routes the HTTP/1.1
requests inside them by the VirtualServices and DestinationRules of the services that use it
(istio.io/use-waypoint).

  --namespace NS                 the Gateway's namespace (required)
  --name NAME                    the Gateway's name, also its service account (required)
  --trust-domain TD              the mesh's trust domain (default cluster.local)
  --control-address HOST:PORT    ambit-control's gRPC address, TLS (required)
  --control-ca FILE              PEM root that signed the control plane's certificate (required)
  --control-server-name NAME     name expected in the control plane's certificate
                                 (default ambit-control)
  --token-file FILE              bearer token of this waypoint for the control plane (required)
  --listen-address IP            address of the HBONE listener (default 0.0.0.0)
  --hbone-port PORT              HBONE listener port (default 15008)
  --admin-address IP             address of the admin, metrics and readiness endpoints
                                 (default 127.0.0.1)
  --admin-port PORT              /logging?level=LEVEL and /debug/certificates (default 15000)
  --metrics-port PORT            /metrics and /stats/prometheus (default 15020)
  --readiness-port PORT          /healthz/ready (default 15021)
  --workers N                    data-path threads (default: one per core)
  --connect-timeout-ms N         upstream tunnel connect timeout (default 10000)
  --max-header-bytes N           largest request or response header accepted (default 61440)
  --max-body-bytes N             largest request or response body accepted (default 1048576)
  --certificate-ttl-s N          lifetime asked of the CA for the certificate (default 86400)
  --path-normalization MODE      how request paths are normalized before policies and routing
                                 when the mesh config (IstioOperator meshConfig.pathNormalization)
                                 sets nothing: NONE, BASE, MERGE_SLASHES or
                                 DECODE_AND_MERGE_SLASHES (default BASE)
  --log-level LEVEL              trace, debug, info, warn, error or off (default info)
  -h, --help                     show this help
)";

ambit::waypoint::Waypoint* g_waypoint = nullptr;

}  // namespace

int main(int argc, char** argv) {
  ambit::waypoint::WaypointOptions options;
  std::string log_level = "info";
  ambit::cli::Flags flags("ambit-waypoint", kUsage);
  flags.text("--namespace", &options.namespace_, /*required=*/true);
  flags.text("--name", &options.name, /*required=*/true);
  flags.text("--trust-domain", &options.trust_domain);
  flags.text("--control-address", &options.control_address, /*required=*/true);
  flags.text("--control-ca", &options.control_ca_file, /*required=*/true);
  flags.text("--control-server-name", &options.control_server_name);
  flags.text("--token-file", &options.token_file, /*required=*/true);
  flags.text("--listen-address", &options.listen_address);
  flags.text("--admin-address", &options.admin_address);
  flags.number("--hbone-port", 1, 65535,
               [&](long v) { options.hbone_port = static_cast<uint16_t>(v); });
  flags.number("--admin-port", 1, 65535,
               [&](long v) { options.admin_port = static_cast<uint16_t>(v); });
  flags.number("--metrics-port", 1, 65535,
               [&](long v) { options.metrics_port = static_cast<uint16_t>(v); });
  flags.number("--readiness-port", 1, 65535,
               [&](long v) { options.readiness_port = static_cast<uint16_t>(v); });
  flags.number("--workers", 1, 256, [&](long v) { options.workers = static_cast<size_t>(v); });
  flags.number("--connect-timeout-ms", 1, 600000,
               [&](long v) { options.connect_timeout = std::chrono::milliseconds(v); });
  flags.number("--max-header-bytes", 1024, 1 << 20,
               [&](long v) { options.max_header_bytes = static_cast<size_t>(v); });
  flags.number("--max-body-bytes", 0, 1 << 30,
               [&](long v) { options.max_body_bytes = static_cast<size_t>(v); });
  flags.number("--certificate-ttl-s", 60, 365L * 86400,
               [&](long v) { options.certificate_ttl = std::chrono::seconds(v); });
  flags.text("--path-normalization", &options.path_normalization);
  flags.text("--log-level", &log_level);
  if (std::optional<int> exit_code = flags.parse(argc, argv)) return *exit_code;
  if (auto status = ambit::log::setLevel(log_level); !status.ok()) {
    ambit::log::get("waypoint")->error("--log-level: {}", std::string(status.message()));
    return 2;
  }
  // Signals are taken by a thread of their own, so stop() runs outside a signal handler; they
  // are blocked before any thread starts, so that every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto waypoint = ambit::waypoint::Waypoint::create(options);
  if (!waypoint.ok()) {
    ambit::log::get("waypoint")->error("{}", std::string(waypoint.status().message()));
    return 1;
  }
  g_waypoint = waypoint->get();
  std::thread waiter([&signals] {
    int signal = 0;
    sigwait(&signals, &signal);
    ambit::log::get("waypoint")->info("signal {}: stopping", signal);
    g_waypoint->stop();
  });
  waiter.detach();
  (*waypoint)->run();
  waypoint->reset();
  return 0;
}
