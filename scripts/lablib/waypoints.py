"""The lab's waypoint controller. For each Gateway of class istio-waypoint (or ambit-waypoint) it
does what Istio's deployment controller does in a cluster: a Service named after the Gateway, and
a pod running ambit-waypoint as the Gateway's service account, with a bearer token the control
plane accepts for that identity (added to the tokens file, which SIGHUP makes it read again)."""
import os
import secrets
import signal

from . import kubelet
from .base import (CONTROL_GRPC, CONTROL_STATE, RUN, TOKENS, LabError, http_get, log,
                   wait_until, write_file)

CLASSES = ("istio-waypoint", "ambit-waypoint")
NAME_LABEL = "gateway.networking.k8s.io/gateway-name"
HBONE_PORT = 15008
READY_PORT = 15021
READY_TIMEOUT = 30


def is_waypoint(obj):
    return (obj.get("kind") == "Gateway"
            and obj.get("apiVersion", "").startswith("gateway.networking.k8s.io/")
            and (obj.get("spec") or {}).get("gatewayClassName") in CLASSES)


def binary(state):
    return os.path.join(state["build_dir"], "waypoint", "ambit-waypoint")


def owner(name):
    return f"gateway/{name}"


def identity(ns, name):
    return f"spiffe://cluster.local/ns/{ns}/sa/{name}"


def token_file(ns, name):
    return os.path.join(RUN, "waypoints", f"{ns}.{name}", "token")


def ensure_token(state, ns, name):
    """A token for the waypoint's identity, known to the control plane once this returns."""
    path = token_file(ns, name)
    if os.path.exists(path):
        return path
    token = secrets.token_hex(24)
    write_file(path, token + "\n", 0o600)
    with open(TOKENS) as f:
        lines = f.read()
    write_file(TOKENS, lines + f"{token} waypoint {identity(ns, name)}\n", 0o600)
    pid = state["control"]["pid"]
    log_path = state["control"]["log"]
    before = _reloads(log_path)
    os.kill(pid, signal.SIGHUP)
    if not wait_until(lambda: _reloads(log_path) > before, 5):
        raise LabError(f"ambit-control did not reload {TOKENS} after SIGHUP (see {log_path})")
    return path


def _reloads(log_path):
    try:
        with open(log_path, errors="replace") as f:
            return f.read().count("tokens reloaded")
    except FileNotFoundError:
        return 0


def service_object(ns, name, vip):
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": ns, "labels": {NAME_LABEL: name}},
            "spec": {"selector": {NAME_LABEL: name}, "clusterIP": vip, "clusterIPs": [vip],
                     "ports": [{"name": "mesh", "port": HBONE_PORT, "protocol": "TCP"}]}}


def pod_template(state, ns, name, tokens):
    argv = [binary(state), "--namespace", ns, "--name", name,
            "--control-address", CONTROL_GRPC,
            "--control-ca", os.path.join(CONTROL_STATE, "root-cert.pem"),
            "--token-file", tokens, "--admin-address", "$(POD_IP)", "--log-level", "info"]
    return {"metadata": {"labels": {NAME_LABEL: name, "istio.io/dataplane-mode": "none"}},
            "spec": {"serviceAccountName": name,
                     "containers": [{"name": "istio-proxy", "image": "ambit-waypoint",
                                     "command": argv,
                                     "ports": [{"containerPort": HBONE_PORT, "name": "hbone"}],
                                     "env": [{"name": "POD_IP", "valueFrom": {
                                         "fieldRef": {"fieldPath": "status.podIP"}}}]}]}}


def deploy(state, gateway, store_object, allocate_vip, new_pods):
    """Creates the waypoint's Service and pod when missing; returns the pod created, if any."""
    ns, name = gateway["metadata"]["namespace"], gateway["metadata"]["name"]
    exe = binary(state)
    if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
        raise LabError(f"{exe} not found; build it with: cmake --build "
                       f"{os.path.relpath(state['build_dir'])} --target ambit-waypoint")
    key = f"Service./{ns}/{name}"
    svc = state["objects"].get(key)
    if svc is None or svc["metadata"].get("labels", {}).get(NAME_LABEL) != name:
        vip = svc["spec"]["clusterIP"] if svc else allocate_vip(state, None)
        store_object(state, service_object(ns, name, vip))
    running = [p for p in state["pods"].values()
               if p["namespace"] == ns and p.get("owner") == owner(name)]
    if running:
        return None
    tokens = ensure_token(state, ns, name)
    pod_name = f"{name}-{kubelet.random_suffix()}"
    pod = kubelet.create_pod(state, ns, pod_name, pod_template(state, ns, name, tokens),
                             owner=owner(name), generate_name=f"{name}-")
    state["pods"][f"{ns}/{pod_name}"] = pod
    new_pods.append(pod)
    log(f"waypoint {ns}/{name}: pod {pod_name} at {pod['ip']} as {identity(ns, name)}")
    return pod


def wait_ready(pods):
    """Waits until each waypoint pod answers /healthz/ready (its certificate and config are in)."""
    for pod in pods:
        url = f"http://{pod['ip']}:{READY_PORT}/healthz/ready"
        last = [None]

        def ready():
            code, body = http_get(pod["netns"], url, timeout=1)
            last[0] = body
            return code == 200

        if not wait_until(ready, READY_TIMEOUT, interval=0.2):
            raise LabError(f"waypoint {pod['namespace']}/{pod['name']} not ready after "
                           f"{READY_TIMEOUT} s at {url}: {last[0]}; see {pod['log']}")
        log(f"waypoint {pod['namespace']}/{pod['name']} ready")


def undeploy(state, gateway, delete_pod, remove_config):
    ns, name = gateway["metadata"]["namespace"], gateway["metadata"]["name"]
    for p in list(state["pods"].values()):
        if p["namespace"] == ns and p.get("owner") == owner(name):
            delete_pod(state, p)
    svc = state["objects"].get(f"Service./{ns}/{name}")
    if svc is not None and svc["metadata"].get("labels", {}).get(NAME_LABEL) == name:
        del state["objects"][f"Service./{ns}/{name}"]
        remove_config(svc)
