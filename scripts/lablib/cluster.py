"""The lab's commands that change the cluster: up, down, apply, delete, label."""
import json
import os
import secrets
import shutil
import subprocess
import time

import yaml

from . import kubelet, manifests, network, procs, prometheus, proxy, waypoints
from .base import (BPF_PINS, CAPTURE_LOCKS, CAPTURE_MODES, CONFIG_DIR, CONTROL_DEBUG_PORT,
                   CONTROL_GRPC, CONTROL_STATE, FABRIC_IP,
                   FABRIC_NS, AGENT_READY_PORT, LOGS, NODES_DIR, RUN,
                   STATE_FILE, TOKENS, LabError, cgroup_dir, http_get, lab_netns_list, log,
                   save_state, tail, wait_until, warn, write_file)

UP_TIMEOUT = 30
RESTART_GRACE = 5  # seconds between SIGTERM and SIGKILL for restart


# ---------------------------------------------------------------------------------------- up

def binaries(build_dir):
    return {"control": os.path.join(build_dir, "control", "ambit-control"),
            "agent": os.path.join(build_dir, "agent", "ambit-agent"),
            "cni": os.path.join(build_dir, "agent", "cni", "ambit-cni")}


def check_binary(path, target, build_dir):
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        rel = os.path.relpath(build_dir)
        shown = build_dir if rel.startswith("..") else rel
        raise LabError(f"{path} not found; build it with:\n"
                       f"  cmake --build {shown} --target {target}"
                       + ("\nor start the lab without node agents: scripts/lab up --no-agents"
                          if target != "ambit-control" else ""))


def leftovers():
    found = lab_netns_list()
    if os.path.exists(RUN):
        found.append(RUN)
    if os.path.exists(cgroup_dir()):
        found.append(cgroup_dir())
    if os.path.exists(BPF_PINS):
        found.append(BPF_PINS)
    return found


def capture_args(node, redirect):
    """The agent's capture options on a lab node: eBPF attaches to the node's own cgroup (its pods
    and agent live below it) with pins of its own, so several nodes share one kernel. The nftables
    mode gets them too: it removes an eBPF capture left there."""
    return ["--redirect", redirect, "--capture-cgroup", node["cgroup"],
            "--bpf-pin-dir", os.path.join(BPF_PINS, node["name"])]


def up(nodes, build_dir, no_agents, agent_args=(), redirect="ebpf", with_prometheus=False):
    if os.path.exists(STATE_FILE):
        raise LabError("lab is already up (run 'scripts/lab down' first)")
    left = leftovers()
    if left:
        raise LabError("lab is already up, or an earlier one left " + ", ".join(left)
                       + " (run 'scripts/lab down' first)")
    if not 1 <= nodes <= 50:
        raise LabError("--nodes must be 1..50")
    if redirect not in CAPTURE_MODES:
        raise LabError(f"--redirect must be one of {', '.join(CAPTURE_MODES)}")
    build_dir = os.path.abspath(build_dir)
    bins = binaries(build_dir)
    check_binary(bins["control"], "ambit-control", build_dir)
    if not no_agents:
        check_binary(bins["agent"], "ambit-agent", build_dir)
        check_binary(bins["cni"], "ambit-cni", build_dir)
    if with_prometheus:
        prometheus.binary()  # refused before anything is created
    state = {"version": 1, "created": time.time(), "build_dir": build_dir,
             "no_agents": no_agents, "redirect": None if no_agents else redirect,
             "control": {"pid": None, "binary": bins["control"]},
             "agent_binary": None if no_agents else bins["agent"],
             "cni_plugin": None if no_agents else bins["cni"],
             "nodes": [], "rr": 0, "next_pod_index": 1, "objects": {}, "pods": {}}
    try:
        _up(state, nodes, bins, no_agents, agent_args, redirect, with_prometheus)
    except BaseException as e:
        if isinstance(e, KeyboardInterrupt):
            print("\ninterrupted", flush=True)
        log("lab: up failed; removing what it created")
        try:
            down(quiet=True)
        except LabError as e2:
            warn(f"cleanup after the failed up: {e2}")
        raise
    return state


def _up(state, nodes, bins, no_agents, agent_args=(), redirect="ebpf", with_prometheus=False):
    for d in (RUN, CONFIG_DIR, CONTROL_STATE, LOGS, NODES_DIR):
        os.makedirs(d, exist_ok=True)
    save_state(state)  # from here on, down knows what to remove
    procs.make_cgroup("control")
    tokens = []
    for i in range(1, nodes + 1):
        name = f"node{i}"
        ndir = os.path.join(NODES_DIR, name)
        os.makedirs(os.path.join(ndir, "pods"), exist_ok=True)
        token = secrets.token_hex(24)
        tokens.append(f"{token} node {name}")
        write_file(os.path.join(ndir, "token"), token + "\n", 0o600)
        state["nodes"].append({"name": name, "index": i, "netns": network.node_ns(i),
                               "ip": network.node_ip(i), "cidr": network.node_cidr(i),
                               "cgroup": procs.make_cgroup(name), "next_host": 2,
                               "cni_socket": os.path.join(ndir, "cni.sock"),
                               "pod_dir": os.path.join(ndir, "pods"),
                               "token_file": os.path.join(ndir, "token"),
                               "log": os.path.join(LOGS, f"agent-{name}.log"), "agent_pid": None})
    write_file(TOKENS, "\n".join(tokens) + "\n", 0o600)
    log(f"creating the fabric ({FABRIC_NS}, {FABRIC_IP}/24) and {nodes} node namespaces")
    network.create_fabric(nodes)
    proxy.program(state)
    # As in a cluster with Istio installed: `default`, and `istio-system`, the root namespace
    # where mesh-wide config (IstioOperator, PeerAuthentication, Telemetry) lives.
    for ns in ("default", "istio-system"):
        store_object(state, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    save_state(state)

    control_log = os.path.join(LOGS, "control.log")
    argv = [bins["control"], "--config-dir", CONFIG_DIR, "--state-dir", CONTROL_STATE,
            "--tokens", TOKENS, "--grpc-address", CONTROL_GRPC, "--debug-address", FABRIC_IP,
            "--log-level", "info"]
    state["control"]["argv"] = argv
    state["control"]["log"] = control_log
    state["control"]["pid"] = procs.start(FABRIC_NS, argv, cgroup_dir("control"), control_log,
                                          base_env())
    save_state(state)
    url = f"http://{FABRIC_IP}:{CONTROL_DEBUG_PORT}/ready"
    wait_for(f"ambit-control {url}", [(FABRIC_NS, url, state["control"]["pid"], control_log)])
    root_cert = os.path.join(CONTROL_STATE, "root-cert.pem")
    if not wait_until(lambda: os.path.exists(root_cert), 5):
        raise LabError(f"ambit-control is ready but wrote no {root_cert}\n" + tail(control_log))

    if no_agents:
        log("no node agents (--no-agents); pods are not enrolled and CNI is not called")
    else:
        checks = []
        for n in state["nodes"]:
            argv = [bins["agent"], "--node", n["name"], "--control-address", CONTROL_GRPC,
                    "--control-ca", root_cert, "--token-file", n["token_file"],
                    "--cni-socket", n["cni_socket"], "--pod-dir", n["pod_dir"],
                    "--admin-address", n["ip"], "--log-level", "info"]
            argv += capture_args(n, redirect)
            argv += list(agent_args)
            n["agent_argv"] = argv
            n["agent_pid"] = procs.start(n["netns"], argv, n["cgroup"], n["log"], base_env(),
                                         host_mounts=True)
            url = f"http://{n['ip']}:{AGENT_READY_PORT}/healthz/ready"
            checks.append((n["netns"], url, n["agent_pid"], n["log"]))
        save_state(state)
        wait_for(f"{len(checks)} node agent(s) /healthz/ready", checks)
    if with_prometheus:
        check = prometheus.start(state, base_env())
        save_state(state)
        wait_for(f"Prometheus {check[1]}", [check])
    save_state(state)
    log(f"lab is up: {nodes} node(s), control plane at {CONTROL_GRPC}, "
        + ("" if no_agents else f"{redirect} capture, ")
        + (f"Prometheus at {prometheus.URL}, " if with_prometheus else "") + f"state in {RUN}")


def base_env():
    return {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": "/root", "LANG": "C.UTF-8"}


def wait_for(what, checks, timeout=UP_TIMEOUT):
    """Waits until every (netns, url, pid, log) answers 200; fails early when a process exits."""
    log(f"waiting for {what} (up to {timeout} s)")
    start = time.monotonic()
    pending = list(checks)
    last = {}
    while pending:
        for c in list(pending):
            ns, url, pid, logfile = c
            if not procs.alive(pid):
                raise LabError(f"{os.path.basename(logfile)[:-4]} exited before it was ready; "
                               f"last lines of {logfile}:\n{tail(logfile)}")
            code, body = http_get(ns, url, timeout=1)
            last[url] = f"HTTP {code}" if code else body
            if code == 200:
                pending.remove(c)
                log(f"  ready: {url} ({time.monotonic() - start:.1f} s)")
        if not pending:
            break
        if time.monotonic() - start > timeout:
            c = pending[0]
            raise LabError(f"{c[1]} not ready after {timeout} s (last answer: {last.get(c[1])}); "
                           f"last lines of {c[3]}:\n{tail(c[3])}")
        time.sleep(0.2)


# ----------------------------------------------------------------------------------- restart

def restart(state, component):
    """Stops the control plane or one node agent and starts it again exactly as 'up' did (same
    argv, netns, cgroup, environment; its log is appended to), then waits until it is ready."""
    nodes = [n["name"] for n in state["nodes"]]
    known = "'control'" + ("" if state["no_agents"] else
                           ", " + ", ".join(f"'agent-{n}'" for n in nodes)) \
        + (", 'prometheus'" if prometheus.enabled(state) else "")
    cwd = "/"
    if component == "control":
        rec, pid_key = state["control"], "pid"
        netns, cgroup, argv, logfile = FABRIC_NS, cgroup_dir("control"), rec.get("argv"), \
            rec.get("log", os.path.join(LOGS, "control.log"))
        url = f"http://{FABRIC_IP}:{CONTROL_DEBUG_PORT}/ready"
    elif component.startswith("agent-") and component[6:] in nodes:
        if state["no_agents"]:
            raise LabError(f"{component}: the lab runs no node agents (it was started with "
                           "--no-agents)")
        rec = next(n for n in state["nodes"] if n["name"] == component[6:])
        pid_key = "agent_pid"
        netns, cgroup, argv, logfile = rec["netns"], rec["cgroup"], rec.get("agent_argv"), \
            rec["log"]
        url = f"http://{rec['ip']}:{AGENT_READY_PORT}/healthz/ready"
    elif component == "prometheus" and prometheus.enabled(state):
        rec, pid_key = state["prometheus"], "pid"
        netns, cgroup, argv, logfile, url, cwd = prometheus.restart_spec(state)
    else:
        raise LabError(f"unknown component '{component}' (expected {known})")
    if not argv:
        raise LabError(f"{component}: the state file has no command line for it")
    if not os.path.isdir(cgroup):
        raise LabError(f"{component}: its cgroup {cgroup} is gone (run 'scripts/lab down' and "
                       "'up' again)")
    how = procs.stop(cgroup, RESTART_GRACE)
    log(f"{component}: {how}" + (f" (pid {rec.get(pid_key)})" if how != "not running" else "")
        + ("" if how != "killed" else f"; it ignored SIGTERM for {RESTART_GRACE} s"))
    with open(logfile, "a") as f:
        f.write(f"--- scripts/lab restart {component} at "
                f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} ---\n")
    rec[pid_key] = procs.start(netns, argv, cgroup, logfile, base_env(), cwd,
                               host_mounts=component.startswith("agent-"))
    save_state(state)
    log(f"{component}: started, pid {rec[pid_key]}")
    wait_for(f"{component} {url}", [(netns, url, rec[pid_key], logfile)])


# -------------------------------------------------------------------------------------- down

def down(quiet=False):
    had_state = os.path.exists(STATE_FILE)
    cg = cgroup_dir()
    n_procs = len(procs.cgroup_pids(cg)) if os.path.isdir(cg) else 0
    procs.stop_cgroup(cg, grace=3)
    uninstall_capture()
    names = network.delete_all()
    shutil.rmtree(RUN, ignore_errors=True)
    if os.path.exists(RUN):
        raise LabError(f"could not remove {RUN}")
    if not quiet:
        if had_state or names or n_procs:
            log(f"lab is down: stopped {n_procs} process(es), deleted {len(names)} network "
                f"namespace(s), removed {RUN}")
        else:
            log("lab is down (nothing was up)")


def uninstall_capture():
    """Detaches and unpins the agents' eBPF capture (after the agents stopped): with each node's
    agent binary's --uninstall-capture where the state names it, then whatever pins are left."""
    if not os.path.isdir(BPF_PINS):
        return
    agent = None
    if os.path.exists(STATE_FILE):
        with open(STATE_FILE) as f:
            agent = json.load(f).get("agent_binary")
    for node in sorted(os.listdir(BPF_PINS)):
        pins = os.path.join(BPF_PINS, node)
        if agent and os.access(agent, os.X_OK):
            p = subprocess.run([agent, "--uninstall-capture", "--capture-cgroup", cgroup_dir(node),
                                "--bpf-pin-dir", pins], capture_output=True, text=True,
                               timeout=30)
            if p.returncode != 0:
                warn(f"ambit-agent --uninstall-capture for {node}: {p.stderr.strip()}")
    # Removing a pin drops the last reference to its link, which detaches it.
    shutil.rmtree(BPF_PINS, ignore_errors=True)
    if os.path.exists(BPF_PINS):
        raise LabError(f"could not remove {BPF_PINS}")
    if os.path.isdir(CAPTURE_LOCKS):
        for name in os.listdir(CAPTURE_LOCKS):
            if name.startswith("capture") and "_ambit-lab_" in name:
                os.unlink(os.path.join(CAPTURE_LOCKS, name))


# ------------------------------------------------------------------------------------- apply

def config_path(obj):
    api = obj["apiVersion"]
    group = api.rsplit("/", 1)[0] if "/" in api else "core"
    ns = obj["metadata"].get("namespace") or "_cluster"
    return os.path.join(CONFIG_DIR, ns, f"{obj['kind'].lower()}.{group}.{obj['metadata']['name']}"
                        ".yaml")


def write_config(obj):
    write_file(config_path(obj), yaml.safe_dump(obj, sort_keys=False, default_flow_style=False))


def remove_config(obj):
    try:
        os.unlink(config_path(obj))
    except FileNotFoundError:
        pass


def store_object(state, obj):
    state["objects"][manifests.object_key(obj)] = obj
    write_config(obj)


def namespaces(state):
    return {o["metadata"]["name"]: o for k, o in state["objects"].items()
            if k.startswith("Namespace./")}


def read_manifests(target):
    """Documents of every file under target that loads and checks cleanly; errors per file."""
    by_file, errors = [], []
    for f in manifests.manifest_files(target):
        try:
            by_file.append((f, manifests.load_file(f)))
        except LabError as e:
            errors.append(str(e))
    return by_file, errors


def apply(state, target):
    by_file, errors = read_manifests(target)
    # Objects may only go into namespaces that exist or that this apply creates; a file that
    # needs a missing one is refused whole.
    for _ in range(len(by_file) + 1):
        known = set(namespaces(state)) | {d.name for _, docs in by_file for d in docs
                                          if d.kind == "Namespace" and d.group == ""}
        bad = None
        for f, docs in by_file:
            for d in docs:
                if d.namespace and d.namespace not in known:
                    bad = (f, f"{d.where('metadata')}: namespace '{d.namespace}' does not exist "
                              f"(create it, e.g. in the same apply)")
                    break
            if bad:
                break
        if not bad:
            break
        errors.append(bad[1])
        by_file = [(f, docs) for f, docs in by_file if f != bad[0]]
    docs = [d for _, docs in by_file for d in docs]
    order = {id(d): i for i, d in enumerate(docs)}
    docs.sort(key=lambda d: (manifests.KIND_ORDER.get(d.kind, 2), order[id(d)]))
    new_pods = []
    try:
        for d in docs:
            try:
                result = apply_one(state, d, new_pods)
                log(f"{d.display()} {result}")
            except LabError as e:
                errors.append(f"{d.where()}: {d.display()}: {e}")
        settle(state, new_pods)
        waypoints.wait_ready([p for p in new_pods
                              if str(p.get("owner", "")).startswith("gateway/")])
    finally:
        save_state(state)
        prometheus.write_targets(state)
    return errors


def settle(state, new_pods):
    """Waits for new pods to be ready, publishes them, and re-programs services and names."""
    not_ready = kubelet.wait_ready(new_pods)
    for p in not_ready:
        why = "exited" if not procs.alive(p["pid"]) else "does not listen on its ports yet"
        warn(f"pod {p['namespace']}/{p['name']} {why}; last lines of {p['log']}:\n"
             + tail(p["log"], 10))
        p["ready"] = procs.alive(p["pid"])  # a slow starter still gets traffic, as without probes
    for p in new_pods:
        write_config(kubelet.pod_object(p))
    proxy.program(state)


def apply_one(state, d, new_pods):
    obj, key = d.obj, d.key
    old = state["objects"].get(key)
    if d.group == "" and d.kind == "Pod":
        return apply_pod(state, d, new_pods)
    if d.group == "" and d.kind == "Service":
        spec = obj["spec"]
        old_vip = old["spec"].get("clusterIP") if old else None
        wanted = spec.get("clusterIP") or None
        if old_vip and wanted and wanted != old_vip:
            raise LabError(f"spec.clusterIP is immutable (is {old_vip})")
        vip = old_vip or ("None" if wanted == "None" else proxy.allocate_vip(state, wanted))
        spec["clusterIP"] = vip
        if vip != "None":
            spec["clusterIPs"] = [vip]
    if d.group == "apps" and d.kind == "Deployment":
        scale_deployment(state, d, new_pods)
    if waypoints.is_waypoint(obj):
        if state.get("no_agents"):
            raise LabError("waypoints need node agents (the lab is up with --no-agents)")
        store_object(state, obj)
        waypoints.deploy(state, obj, store_object, proxy.allocate_vip, new_pods)
        return "unchanged" if old == obj else ("configured" if old else "created")
    if old == obj:
        return "unchanged"
    store_object(state, obj)
    return "configured" if old else "created"


def apply_pod(state, d, new_pods):
    pkey = f"{d.namespace}/{d.name}"
    old = state["pods"].get(pkey)
    if old and old.get("source") == d.obj:
        return "unchanged"
    if old:
        delete_pod(state, old)
    pod = kubelet.create_pod(state, d.namespace, d.name, d.obj)
    pod["source"] = d.obj
    state["pods"][pkey] = pod
    new_pods.append(pod)
    return "configured" if old else "created"


def scale_deployment(state, d, new_pods):
    spec = d.obj["spec"]
    h = kubelet.template_hash(spec["template"])
    mine = sorted((p for p in state["pods"].values()
                   if p["namespace"] == d.namespace and p.get("owner") == d.name),
                  key=lambda p: p["created"])
    for p in mine:
        if p.get("template_hash") != h:
            delete_pod(state, p)
    keep = [p for p in mine if p.get("template_hash") == h]
    replicas = spec.get("replicas", 1)
    for p in keep[replicas:]:
        delete_pod(state, p)
    for _ in range(replicas - len(keep)):
        for _attempt in range(20):
            name = f"{d.name}-{kubelet.random_suffix()}"
            if f"{d.namespace}/{name}" not in state["pods"]:
                break
        pod = kubelet.create_pod(state, d.namespace, name, spec["template"], owner=d.name,
                                 generate_name=f"{d.name}-")
        pod["template_hash"] = h
        state["pods"][f"{d.namespace}/{name}"] = pod
        new_pods.append(pod)


def delete_pod(state, pod):
    kubelet.stop_pod(state, pod)
    state["pods"].pop(f"{pod['namespace']}/{pod['name']}", None)
    remove_config(kubelet.pod_object(pod))


# ------------------------------------------------------------------------------------ delete

def delete(state, target):
    by_file, errors = read_manifests(target)
    docs = [d for _, docs in by_file for d in docs]
    docs.sort(key=lambda d: -manifests.KIND_ORDER.get(d.kind, 2))
    try:
        for d in docs:
            log(f"{d.display()} {delete_one(state, d)}")
        proxy.program(state)
    finally:
        save_state(state)
        prometheus.write_targets(state)
    return errors


def delete_one(state, d):
    if d.group == "" and d.kind == "Pod":
        pod = state["pods"].get(f"{d.namespace}/{d.name}")
        if not pod:
            return "not found"
        delete_pod(state, pod)
        return "deleted"
    obj = state["objects"].pop(d.key, None)
    if obj is None:
        return "not found"
    if d.group == "apps" and d.kind == "Deployment":
        for p in list(state["pods"].values()):
            if p["namespace"] == d.namespace and p.get("owner") == d.name:
                delete_pod(state, p)
    if waypoints.is_waypoint(obj):
        waypoints.undeploy(state, obj, delete_pod, remove_config)
    if d.group == "" and d.kind == "Namespace":
        for p in list(state["pods"].values()):
            if p["namespace"] == d.name:
                delete_pod(state, p)
        for k, o in list(state["objects"].items()):
            if o["metadata"].get("namespace") == d.name:
                del state["objects"][k]
                remove_config(o)
        shutil.rmtree(os.path.join(CONFIG_DIR, d.name), ignore_errors=True)
    remove_config(obj)
    return "deleted"


# ------------------------------------------------------------------------------------- label

def label_namespace(state, name, changes):
    ns = namespaces(state).get(name)
    if ns is None:
        raise LabError(f"namespace {name} not found")
    labels = dict(ns["metadata"].get("labels") or {})
    for c in changes:
        if c.endswith("-") and "=" not in c:
            labels.pop(c[:-1], None)
        elif "=" in c and c.split("=", 1)[0]:
            k, v = c.split("=", 1)
            labels[k] = v
        else:
            raise LabError(f"'{c}': expected key=value or key-")
    ns["metadata"]["labels"] = labels
    if not labels:
        del ns["metadata"]["labels"]
    store_object(state, ns)
    save_state(state)
    log(f"namespace/{name} labeled")
