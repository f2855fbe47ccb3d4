#!/usr/bin/python3
"""Starts ambit-control on a temporary config directory and talks to it with Python gRPC (a
different stack from the server's): Delta ADS over TLS with a bearer token gets the expected
Address and Authorization resources, an ACK is accepted, a config change arrives as a delta, and
the CA signs a CSR for a pod on the caller's node but refuses one for another node."""

import argparse
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import grpc

TOKEN_NODE1 = "node1-token-0123456789abcdef"
TOKEN_NODE2 = "node2-token-0123456789abcdef"
ADDRESS_TYPE = "type.googleapis.com/istio.workload.Address"
AUTHZ_TYPE = "type.googleapis.com/istio.security.Authorization"

CONFIG = """
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {istio.io/dataplane-mode: ambient}
---
apiVersion: v1
kind: Pod
metadata:
  name: reviews-1
  namespace: shop
  uid: 6f1c2d3e-0000-4000-8000-000000000001
  labels: {app: reviews, version: v1}
spec:
  nodeName: node1
  serviceAccountName: reviews
  containers: [{name: reviews, image: ambit/echo, ports: [{name: http, containerPort: 8080}]}]
status:
  phase: Running
  podIP: 10.244.1.5
  podIPs: [{ip: 10.244.1.5}]
  conditions: [{type: Ready, status: "True"}]
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  clusterIP: 10.96.0.10
  selector: {app: reviews}
  ports: [{name: http, port: 9080, targetPort: http}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: reviews-from-frontend, namespace: shop}
spec:
  selector:
    matchLabels: {app: reviews}
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/shop/sa/frontend"]
"""

EXTRA = """
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: shop}
spec:
  clusterIP: 10.96.0.11
  selector: {app: ratings}
  ports: [{name: http, port: 9080}]
"""


def reserve_port():
    """A loopback port held by the returned socket until it is closed: bound with SO_REUSEPORT
    but not listening, so no other process can take the port, while ambit-control's gRPC
    listener, which sets SO_REUSEPORT on Linux, binds it beside this socket. ambit-control logs
    the address it was given rather than the port it bound, so it cannot be asked for port 0."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(("127.0.0.1", 0))
    return s


DEBUG_LISTENING = re.compile(r"serving ADS and CA on .* debug on [^ ]+:(\d+)$")


def watch_log(control):
    """Copies ambit-control's log to stderr from a thread; returns a queue that gets the debug
    port the control plane bound, once it logs that it is serving, and None at the end of the
    log."""
    ports = queue.Queue()

    def copy():
        for line in control.stderr:
            sys.stderr.write(line)
            m = DEBUG_LISTENING.search(line.rstrip("\n"))
            if m:
                ports.put(int(m.group(1)))
        ports.put(None)

    threading.Thread(target=copy, daemon=True).start()
    return ports


def compile_protos(proto_root, out):
    files = [
        "envoy/service/discovery/v3/ads.proto",
        "envoy/service/discovery/v3/discovery.proto",
        "envoy/config/core/v3/base.proto",
        "google/rpc/status.proto",
        "istio/workload/workload.proto",
        "istio/security/authorization.proto",
        "istio/v1/auth/ca.proto",
    ]
    os.makedirs(out, exist_ok=True)
    subprocess.run(["protoc", "-I", proto_root, "--python_out", out] + files, check=True)
    # Implicit namespace packages: "google" merges with the system's google.protobuf.
    sys.path.insert(0, out)


def wait_ready(port, deadline):
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("ambit-control did not become ready in time")


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--control", required=True)
    parser.add_argument("--proto-root", required=True)
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="ambit-python-client-")
    control = None
    reserved = None
    try:
        compile_protos(args.proto_root, os.path.join(work, "gen"))
        from envoy.service.discovery.v3 import discovery_pb2
        from istio.workload import workload_pb2
        from istio.security import authorization_pb2
        from istio.v1.auth import ca_pb2

        config_dir = os.path.join(work, "config")
        os.makedirs(config_dir)
        with open(os.path.join(config_dir, "shop.yaml"), "w") as f:
            f.write(CONFIG)
        tokens = os.path.join(work, "tokens")
        with open(tokens, "w") as f:
            f.write(f"{TOKEN_NODE1} node node1\n{TOKEN_NODE2} node node2\n")
        reserved = reserve_port()
        grpc_port = reserved.getsockname()[1]
        # The debug server binds a port of the kernel's choice and the log tells which.
        control = subprocess.Popen(
            [args.control, "--config-dir", config_dir, "--state-dir", os.path.join(work, "state"),
             "--tokens", tokens, "--grpc-address", f"127.0.0.1:{grpc_port}",
             "--debug-port", "0", "--debounce-ms", "50"],
            stderr=subprocess.PIPE, text=True)
        try:
            debug_port = watch_log(control).get(timeout=30)
        except queue.Empty:
            raise AssertionError("ambit-control did not say it was serving within 30 s")
        if debug_port is None:
            raise AssertionError(f"ambit-control exited with {control.wait(10)} before serving")
        wait_ready(debug_port, time.time() + 30)

        with open(os.path.join(work, "state", "root-cert.pem"), "rb") as f:
            root = f.read()
        credentials = grpc.ssl_channel_credentials(root_certificates=root)
        channel = grpc.secure_channel(
            f"127.0.0.1:{grpc_port}", credentials,
            options=[("grpc.ssl_target_name_override", "ambit-control")])
        grpc.channel_ready_future(channel).result(timeout=10)

        # Delta ADS: wildcard subscriptions to addresses and authorizations.
        ads = channel.stream_stream(
            "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources",
            request_serializer=discovery_pb2.DeltaDiscoveryRequest.SerializeToString,
            response_deserializer=discovery_pb2.DeltaDiscoveryResponse.FromString)
        requests = queue.Queue()

        def request_iter():
            while True:
                item = requests.get()
                if item is None:
                    return
                yield item

        def request(type_url, nonce=""):
            r = discovery_pb2.DeltaDiscoveryRequest(type_url=type_url, response_nonce=nonce)
            r.node.id = "python-client~node1"
            return r

        responses = ads(request_iter(), metadata=[("authorization", f"Bearer {TOKEN_NODE1}")],
                        timeout=60)
        requests.put(request(ADDRESS_TYPE))
        requests.put(request(AUTHZ_TYPE))
        got = {}
        for _ in range(2):
            response = next(responses)
            got[response.type_url] = response
            requests.put(request(response.type_url, response.nonce))  # ACK

        addresses = {}
        for resource in got[ADDRESS_TYPE].resources:
            address = workload_pb2.Address()
            check(resource.resource.Unpack(address), "Address resource does not unpack")
            addresses[resource.name] = address
        check("shop/reviews.shop.svc.cluster.local" in addresses,
              f"service missing: {sorted(addresses)}")
        workloads = [a.workload for a in addresses.values() if a.HasField("workload")]
        check(len(workloads) == 1, f"expected one workload, got {sorted(addresses)}")
        w = workloads[0]
        check(w.name == "reviews-1" and w.namespace == "shop" and w.node == "node1",
              f"unexpected workload {w}")
        check(w.service_account == "reviews", f"service account {w.service_account}")
        check(w.tunnel_protocol == workload_pb2.HBONE, "ambient pod must use HBONE")
        check(list(w.addresses) == [bytes([10, 244, 1, 5])], f"addresses {list(w.addresses)}")
        service = addresses["shop/reviews.shop.svc.cluster.local"].service
        check(service.hostname == "reviews.shop.svc.cluster.local", service.hostname)
        check(service.addresses[0].address == bytes([10, 96, 0, 10]), "service VIP")
        names = [r.name for r in got[AUTHZ_TYPE].resources]
        check("shop/reviews-from-frontend" in names, f"authorizations {names}")
        policy = authorization_pb2.Authorization()
        got[AUTHZ_TYPE].resources[names.index("shop/reviews-from-frontend")].resource.Unpack(policy)
        check(policy.action == authorization_pb2.ALLOW, "policy action")

        # A change to the config arrives as a delta with only the new resource.
        with open(os.path.join(config_dir, "ratings.yaml"), "w") as f:
            f.write(EXTRA)
        delta = next(responses)
        check(delta.type_url == ADDRESS_TYPE, delta.type_url)
        check([r.name for r in delta.resources] == ["shop/ratings.shop.svc.cluster.local"],
              f"delta {[r.name for r in delta.resources]}")
        check(list(delta.removed_resources) == [], "nothing removed")
        requests.put(request(ADDRESS_TYPE, delta.nonce))
        requests.put(None)

        # The CA: node1 may get the identity of a pod on node1; node2 may not.
        key = os.path.join(work, "key.pem")
        csr = os.path.join(work, "csr.pem")
        identity = "spiffe://cluster.local/ns/shop/sa/reviews"
        subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout",
                        "-out", key], check=True)
        subprocess.run(["openssl", "req", "-new", "-key", key, "-subj", "/O=ambit", "-addext",
                        f"subjectAltName=URI:{identity}", "-out", csr], check=True)
        with open(csr) as f:
            csr_pem = f.read()
        create = channel.unary_unary(
            "/istio.v1.auth.IstioCertificateService/CreateCertificate",
            request_serializer=ca_pb2.IstioCertificateRequest.SerializeToString,
            response_deserializer=ca_pb2.IstioCertificateResponse.FromString)
        reply = create(ca_pb2.IstioCertificateRequest(csr=csr_pem, validity_duration=3600),
                       metadata=[("authorization", f"Bearer {TOKEN_NODE1}")], timeout=10)
        check(len(reply.cert_chain) >= 2, "chain has leaf and root")
        leaf = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName"],
                              input=reply.cert_chain[0], capture_output=True, text=True, check=True)
        check(f"URI:{identity}" in leaf.stdout, leaf.stdout)
        try:
            create(ca_pb2.IstioCertificateRequest(csr=csr_pem),
                   metadata=[("authorization", f"Bearer {TOKEN_NODE2}")], timeout=10)
            raise AssertionError("node2 obtained an identity of a pod on node1")
        except grpc.RpcError as e:
            check(e.code() == grpc.StatusCode.PERMISSION_DENIED, f"got {e.code()}")

        with urllib.request.urlopen(f"http://127.0.0.1:{debug_port}/metrics", timeout=5) as r:
            metrics = r.read().decode()
        check("ambit_control_certificates_signed_total 1" in metrics, "signed counter")
        check('ambit_control_certificates_refused_total{reason="foreign_identity"} 1' in metrics,
              "refused counter")
        print("python client: 1 passed, 0 failed")
    finally:
        if control is not None:
            control.terminate()
            try:
                control.wait(timeout=10)
            except subprocess.TimeoutExpired:
                control.kill()
        if reserved is not None:
            reserved.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
