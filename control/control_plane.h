// ambit-control wired together: the config source feeds translation, whose snapshots the Delta ADS
// server pushes; the CA signs workload certificates; debug endpoints show all of it.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "control/translate/options.h"
#include "core/status.h"

namespace ambit::control {

struct ControlPlaneOptions {
  std::string config_dir;   // watched for Kubernetes and Istio YAML
  std::string state_dir;    // the CA root lives here (created on first start)
  std::string cacerts_dir;  // a plug-in CA in Istio's cacerts layout; empty: self-signed root
  std::string tokens_file;  // bearer tokens of node agents and waypoints
  // TLS for ADS and the CA; clients verify it against the root in state_dir/root-cert.pem.
  std::string grpc_address = "0.0.0.0:15012";
  // Plaintext ADS and CA, for tests only; empty disables it.
  std::string plaintext_grpc_address;
  std::string debug_address = "127.0.0.1";
  uint16_t debug_port = 15014;
  std::chrono::milliseconds debounce{100};
  translate::Options translation;
};

class ControlPlane {
 public:
  static absl::StatusOr<std::unique_ptr<ControlPlane>> create(ControlPlaneOptions options);
  ~ControlPlane();

  // Loads the configuration, starts serving; returns once everything listens.
  absl::Status start();
  void stop();
  // Reads the --tokens file again (on SIGHUP), so callers can be added without a restart. On
  // error the tokens in force stay and the error is returned.
  absl::Status reloadTokens();

  int grpcPort() const;
  int plaintextPort() const;
  uint16_t debugPort() const;

 private:
  struct Impl;
  explicit ControlPlane(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ambit::control
