// ambit-agent: the node agent. Enrolls this node's ambient pods, captures their TCP traffic and
// relays it, with config from ambit-control.
#include <optional>
#include <string>

#include "agent/node_agent.h"
#include "core/cli/flags.h"
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
  --redirect MODE                capture mode: ebpf, nftables, or auto: ebpf where the kernel
                                 supports it, otherwise nftables with a log line saying why
                                 (default auto)
  --capture-cgroup DIR           cgroup v2 directory holding this node's pods and the agent; the
                                 eBPF programs attach here (default: the root of the
                                 cgroup v2 mount)
  --bpf-pin-dir DIR              bpffs directory for the eBPF capture's maps and links, kept
                                 across agent restarts (default /sys/fs/bpf/ambit)
  --ebpf-max-pods N              pods the eBPF maps hold on this node (default 1024)
  --ebpf-fast-path on|off        splice the plaintext legs between apps and the agent in the
                                 kernel (sk_msg); a slow reader's bytes are then not held back
                                 by its receive buffer (default off; docs/ebpf.md)
  --uninstall-capture            detach and unpin the eBPF capture of --capture-cgroup and
                                 --bpf-pin-dir, then exit (the agent must be stopped)
  --admin-address IP             address of the admin, metrics and readiness endpoints
                                 (default 127.0.0.1)
  --admin-port PORT              /config_dump, /logging?level=LEVEL, /debug/pods and
                                 /debug/certificates (default 15000)
  --metrics-port PORT            /metrics and /stats/prometheus, also /debug/* (default 15020)
  --readiness-port PORT          /healthz/ready (default 15021)
  --connect-timeout-ms N         upstream connect timeout (default 10000)
  --idle-timeout-s N             close a relayed connection idle this long (default 3600)
  --workers N                    data-path threads (default: one per core)
  --drain-seconds N              on SIGTERM, how long open connections may finish (default 5)
  --certificate-ttl-s N          lifetime asked of the CA for workload certificates, renewed at
                                 half-life (default 86400)
  --log-level LEVEL              trace, debug, info, warn, error or off (default info)
  -h, --help                     show this help
)";

}  // namespace

int main(int argc, char** argv) {
  ambit::agent::NodeAgentOptions options;
  std::string log_level = "info";
  ambit::cli::Flags flags("ambit-agent", kUsage);
  flags.text("--node", &options.node, /*required=*/true);
  flags.text("--control-address", &options.control_address, /*required=*/true);
  flags.text("--control-ca", &options.control_ca_file, /*required=*/true);
  flags.text("--control-server-name", &options.control_server_name);
  flags.text("--token-file", &options.token_file, /*required=*/true);
  flags.text("--cni-socket", &options.cni_socket);
  flags.text("--pod-dir", &options.pod_dir);
  flags.text("--redirect", &options.redirect);
  flags.text("--capture-cgroup", &options.capture.bpf.cgroup);
  flags.text("--bpf-pin-dir", &options.capture.bpf.pin_dir);
  flags.number("--ebpf-max-pods", 1, 65536,
               [&](long v) { options.capture.bpf.max_pods = static_cast<uint32_t>(v); });
  std::string fast_path = "off";
  flags.text("--ebpf-fast-path", &fast_path);
  bool uninstall_capture = false;
  flags.toggle("--uninstall-capture", &uninstall_capture, /*waives_required=*/true);
  flags.text("--admin-address", &options.admin_address);
  flags.text("--log-level", &log_level);
  flags.number("--admin-port", 0, 65535, [&](long v) { options.admin_port = uint16_t(v); });
  flags.number("--metrics-port", 0, 65535, [&](long v) { options.metrics_port = uint16_t(v); });
  flags.number("--readiness-port", 0, 65535, [&](long v) { options.readiness_port = uint16_t(v); });
  flags.number("--connect-timeout-ms", 1, 600000,
               [&](long v) { options.pods.proxy.connect_timeout = std::chrono::milliseconds(v); });
  flags.number("--idle-timeout-s", 1, 7 * 86400,
               [&](long v) { options.pods.proxy.relay.idle_timeout = std::chrono::seconds(v); });
  flags.number("--workers", 1, 64, [&](long v) { options.workers = static_cast<size_t>(v); });
  flags.number("--drain-seconds", 0, 3600,
               [&](long v) { options.drain = std::chrono::seconds(v); });
  flags.number("--certificate-ttl-s", 60, 90L * 86400,
               [&](long v) { options.certificate_ttl = std::chrono::seconds(v); });
  if (std::optional<int> exit_code = flags.parse(argc, argv)) return *exit_code;
  if (auto status = ambit::log::setLevel(log_level); !status.ok()) {
    return flags.usageError(std::string(status.message()));
  }
  if (fast_path != "on" && fast_path != "off") {
    return flags.usageError("--ebpf-fast-path must be on or off");
  }
  options.pods.capture.ebpf_fast_path = fast_path == "on";

  auto log = ambit::log::get("agent");
  if (uninstall_capture) {
    const absl::Status status = ambit::agent::BpfCapture::uninstall(options.capture.bpf);
    if (!status.ok()) log->error("{}", std::string(status.message()));
    return status.ok() ? 0 : 1;
  }
  auto agent = ambit::agent::NodeAgent::create(options);
  if (!agent.ok()) {
    log->error("{}", std::string(agent.status().message()));
    return 1;
  }
  (*agent)->run();
  return 0;
}
