"""What kubelet and the container runtime do: schedule a pod, give it a netns and an address,
call the CNI plugin, run its first container's command in the pod's cgroup, and tear it down."""
import hashlib
import json
import os
import random
import re
import string
import subprocess
import time
import uuid

from . import network, procs, proxy
from .base import APP_DIRS, LOGS, NETNS_ETC, PREFIX, LabError, cgroup_dir, warn

FIELD = re.compile(r"^metadata\.(labels|annotations)\[['\"]([^'\"]+)['\"]\]$")


def template_hash(template):
    return hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]


def random_suffix():
    return "".join(random.choice(string.ascii_lowercase) for _ in range(5))


def pick_node(state, spec, what):
    wanted = spec.get("nodeName")
    if wanted:
        for n in state["nodes"]:
            if n["name"] == wanted:
                return n
        names = ", ".join(n["name"] for n in state["nodes"])
        raise LabError(f"{what}: spec.nodeName {wanted} is not a lab node ({names})")
    node = state["nodes"][state["rr"] % len(state["nodes"])]
    state["rr"] += 1
    return node


def allocate_ip(state, node):
    used = {p["ip"] for p in state["pods"].values() if p["node"] == node["name"]}
    base = node["cidr"].rsplit(".", 1)[0]  # "10.244.1"
    for step in range(253):
        host = 2 + (node["next_host"] - 2 + step) % 253  # .2 .. .254, not reusing at once
        addr = f"{base}.{host}"
        if addr not in used:
            node["next_host"] = host + 1
            return addr
    raise LabError(f"node {node['name']} has no free pod address in {node['cidr']}")


def field_value(path, meta, spec, node, pod_ip):
    m = FIELD.match(path)
    if m:
        return (meta.get(m.group(1)) or {}).get(m.group(2), "")
    return {"metadata.name": meta["name"], "metadata.namespace": meta["namespace"],
            "metadata.uid": meta["uid"], "spec.nodeName": node["name"],
            "spec.serviceAccountName": spec.get("serviceAccountName") or "default",
            "status.podIP": pod_ip, "status.hostIP": node["ip"]}.get(path, "")


def expand(text, env):
    """Kubernetes' $(VAR) references in env values, command and args; $$ escapes."""
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                  lambda m: "$" if m.group(0) == "$$" else env.get(m.group(1), m.group(0)),
                  str(text))


def container_env(container, meta, spec, node, pod_ip):
    env = {"PATH": ":".join(APP_DIRS + ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
                                         "/usr/bin", "/sbin", "/bin"]),
           "HOME": "/root", "HOSTNAME": meta["name"], "LANG": "C.UTF-8",
           "POD_NAME": meta["name"], "POD_NAMESPACE": meta["namespace"], "POD_IP": pod_ip,
           "NODE_NAME": node["name"]}
    resolved = []
    for e in container.get("env") or []:
        if "valueFrom" in e:
            value = field_value(e["valueFrom"]["fieldRef"]["fieldPath"], meta, spec, node, pod_ip)
        else:
            value = expand(e.get("value", ""), env)
        env[e["name"]] = str(value)
        resolved.append({"name": e["name"], "value": str(value)})
    return env, resolved


def cni_call(state, pod, command):
    """Runs the chained CNI plugin as a container runtime does; raises LabError with the
    plugin's error result."""
    node = next(n for n in state["nodes"] if n["name"] == pod["node"])
    plugin = state.get("cni_plugin")
    netns_path = f"/var/run/netns/{pod['netns']}"
    conf = {"cniVersion": "1.0.0", "name": "ambit-lab", "type": "ambit-cni",
            "agentSocket": node["cni_socket"], "podDir": node["pod_dir"],
            "prevResult": {"cniVersion": "1.0.0",
                           "interfaces": [{"name": "eth0", "sandbox": netns_path}],
                           "ips": [{"address": f"{pod['ip']}/32", "interface": 0}]}}
    env = {"CNI_COMMAND": command, "CNI_CONTAINERID": pod["container_id"],
           "CNI_NETNS": netns_path, "CNI_IFNAME": "eth0", "CNI_PATH": os.path.dirname(plugin),
           "CNI_ARGS": f"IgnoreUnknown=1;K8S_POD_NAMESPACE={pod['namespace']};"
                       f"K8S_POD_NAME={pod['name']};K8S_POD_UID={pod['uid']};"
                       f"K8S_POD_INFRA_CONTAINER_ID={pod['container_id']}",
           "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    try:
        p = subprocess.run([plugin], input=json.dumps(conf), env=env, capture_output=True,
                           text=True, timeout=30)
    except subprocess.TimeoutExpired:
        raise LabError(f"CNI {command} for pod {pod['namespace']}/{pod['name']}: {plugin} did not "
                       "answer within 30 s")
    if p.returncode != 0:
        detail = p.stdout.strip() or p.stderr.strip()
        try:
            r = json.loads(p.stdout)
            detail = f"{r.get('msg', '')}" + (f" ({r['details']})" if r.get("details") else "") \
                + f" [CNI error code {r.get('code')}]"
        except (ValueError, AttributeError):
            pass
        stderr = f"\n  plugin stderr: {p.stderr.strip()}" if p.stderr.strip() else ""
        raise LabError(f"CNI {command} for pod {pod['namespace']}/{pod['name']} failed "
                       f"(exit {p.returncode}): {detail}{stderr}")
    if p.stderr.strip():
        # A runtime logs what the plugin says on success too; warnings matter here.
        warn(f"CNI {command} for pod {pod['namespace']}/{pod['name']}: {p.stderr.strip()}")


def create_pod(state, namespace, name, template, owner=None, generate_name=None):
    """Creates and starts a pod; returns its record (state['pods'] entry, not yet stored)."""
    tmeta = template.get("metadata") or {}
    spec = template["spec"]
    what = f"pod {namespace}/{name}"
    node = pick_node(state, spec, what)
    pod_ip = allocate_ip(state, node)
    index = state["next_pod_index"]
    state["next_pod_index"] += 1
    meta = {"name": name, "namespace": namespace, "uid": str(uuid.uuid4()),
            "labels": dict(tmeta.get("labels") or {}),
            "annotations": dict(tmeta.get("annotations") or {})}
    container = spec["containers"][0]
    env, resolved_env = container_env(container, meta, spec, node, pod_ip)
    argv = [expand(x, env) for x in list(container["command"]) + list(container.get("args") or [])]
    pod = {"namespace": namespace, "name": name, "uid": meta["uid"], "node": node["name"],
           "host_ip": node["ip"],
           "node_index": node["index"], "ip": pod_ip, "netns": f"{PREFIX}pod-{namespace}.{name}",
           "host_if": f"ap{index}", "container_id": uuid.uuid4().hex + uuid.uuid4().hex,
           "cgroup": cgroup_dir(node["name"], f"pod-{namespace}.{name}"),
           "log": os.path.join(LOGS, "pods", f"{namespace}_{name}.log"),
           "labels": meta["labels"], "annotations": meta["annotations"],
           "owner": owner, "generate_name": generate_name,
           "service_account": spec.get("serviceAccountName") or spec.get("serviceAccount")
           or "default",
           "ports": [dict(p) for p in container.get("ports") or []],
           "container": {"name": container.get("name", "main"), "image": container.get("image", ""),
                         "command": [str(x) for x in container["command"]],
                         "args": [str(x) for x in container.get("args") or []],
                         "ports": container.get("ports") or [], "env": resolved_env},
           "env": env, "argv": argv, "cwd": container.get("workingDir") or "/",
           "cni": False, "pid": None, "ready": False, "created": time.time()}
    network.create_pod_net(node["index"], pod["netns"], pod["host_if"], pod_ip)
    try:
        os.makedirs(os.path.join(NETNS_ETC, pod["netns"]), exist_ok=True)
        proxy.write_hosts(state, pod)
        if state.get("cni_plugin"):
            if os.path.exists(state["cni_plugin"]):
                pod["cni"] = True
                cni_call(state, pod, "ADD")
            else:
                warn(f"CNI plugin {state['cni_plugin']} is gone; pod {namespace}/{name} "
                     "is not enrolled")
        procs.make_cgroup(node["name"], f"pod-{namespace}.{name}")
        pod["pid"] = procs.start(pod["netns"], argv, pod["cgroup"], pod["log"], env, pod["cwd"])
    except BaseException:
        stop_pod(state, pod, quiet=True)
        raise
    return pod


def wait_ready(pods, timeout=15):
    """Ready = the process runs and listens on every TCP containerPort it declares (a readiness
    probe the lab gives every pod). Returns the pods that did not get ready in time."""
    deadline = time.monotonic() + timeout
    waiting = list(pods)
    while waiting:
        for p in list(waiting):
            if not procs.alive(p["pid"]):
                waiting.remove(p)
                p["ready"] = False
                continue
            want = {x["containerPort"] for x in p["ports"] if x.get("protocol", "TCP") == "TCP"}
            if want <= listening_ports(p["pid"]):
                waiting.remove(p)
                p["ready"] = True
        if not waiting or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    return [p for p in pods if not p["ready"]]


def listening_ports(pid):
    ports = set()
    for f in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{pid}/net/{f}") as fh:
                for line in fh.readlines()[1:]:
                    parts = line.split()
                    if len(parts) > 3 and parts[3] == "0A":  # LISTEN
                        ports.add(int(parts[1].rsplit(":", 1)[1], 16))
        except OSError:
            pass
    return ports


def pod_object(pod):
    """The Pod as the control plane reads it from the config dir."""
    meta = {"name": pod["name"], "namespace": pod["namespace"], "uid": pod["uid"],
            "labels": pod["labels"], "creationTimestamp":
                time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(pod["created"]))}
    if pod["annotations"]:
        meta["annotations"] = pod["annotations"]
    if pod.get("generate_name"):
        meta["generateName"] = pod["generate_name"]
    c = pod["container"]
    container = {"name": c["name"], "image": c["image"], "command": c["command"]}
    for k in ("args", "ports", "env"):
        if c.get(k):
            container[k] = c[k]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": {"nodeName": pod["node"], "serviceAccountName": pod["service_account"],
                     "containers": [container]},
            "status": {"phase": "Running" if procs.alive(pod["pid"]) else "Failed",
                       "hostIP": pod["host_ip"],
                       "podIP": pod["ip"], "podIPs": [{"ip": pod["ip"]}],
                       "conditions": [{"type": "Ready",
                                       "status": "True" if pod["ready"] else "False"}],
                       "startTime": meta["creationTimestamp"]}}


def stop_pod(state, pod, quiet=False):
    """Stops the processes, calls CNI DEL while the netns still exists, removes the netns."""
    errors = []
    try:
        procs.stop_cgroup(pod["cgroup"], grace=2)
    except LabError as e:
        errors.append(str(e))
    if pod.get("cni") and state.get("cni_plugin") and os.path.exists(state["cni_plugin"]):
        try:
            cni_call(state, pod, "DEL")
        except LabError as e:
            errors.append(str(e))
    network.delete_pod_net(pod["node_index"], pod["netns"], pod["host_if"])
    if errors and not quiet:
        for e in errors:
            warn(e)
