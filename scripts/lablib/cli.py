"""Command line of scripts/lab."""
import argparse
import json
import os
import sys
import time

from . import cluster, procs, prometheus
from .base import (AGENT_ADMIN_PORT, AGENT_READY_PORT, CONTROL_DEBUG_PORT, FABRIC_IP, FABRIC_NS,
                   LOCK_FILE, LOGS, REPO, LabError, http_get, load_state, locked, require_root,
                   tool)
from .proxy import endpoints, services

DESCRIPTION = """\
A Kubernetes-like cluster made of network namespaces on this machine, running the real Ambit
binaries: ambit-control in a fabric namespace, one ambit-agent per node namespace, one namespace
per pod. The lab plays kubelet, the container runtime (calling the ambit-cni plugin),
kube-proxy and cluster DNS. See docs/lab.md."""

EPILOG = """\
examples:
  scripts/lab up --nodes 2
  scripts/lab apply -f samples/lab
  scripts/lab exec legacy/client -- curl -s http://echo.demo/
  scripts/lab status
  scripts/lab restart agent-node1
  scripts/lab up --prometheus && scripts/lab query 'up'
  scripts/lab down"""


def parser():
    p = argparse.ArgumentParser(prog="scripts/lab", description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    s = sub.add_parser("up", help="create the cluster and start the control plane and agents",
                       description="Creates the fabric and node namespaces, starts ambit-control "
                       "and one ambit-agent per node, and waits until they are ready.")
    s.add_argument("--nodes", type=int, default=2, help="number of nodes (default 2)")
    s.add_argument("--build-dir", default=os.path.join(REPO, "build", "release"),
                   help="where the binaries are built (default build/release)")
    s.add_argument("--no-agents", action="store_true",
                   help="start no node agents and call no CNI plugin (plain Kubernetes)")
    s.add_argument("--redirect", choices=["ebpf", "nftables"], default="ebpf",
                   help="the agents' capture mode (default ebpf; nftables for the other)")
    s.add_argument("--agent-arg", action="append", default=[], metavar="ARG",
                   help="one more argument for every ambit-agent, e.g. --agent-arg="
                   "--certificate-ttl-s=60 (repeatable)")
    s.add_argument("--prometheus", action="store_true",
                   help="also run Prometheus (Debian's prometheus) in the fabric namespace at "
                   f"{prometheus.URL}, scraping the agents, the waypoints and the control plane "
                   f"every {prometheus.SCRAPE_INTERVAL}")

    sub.add_parser("down", help="stop every lab process and remove everything the lab created",
                   description="Kills every process in the lab's cgroups, deletes every ambit-* "
                   "network namespace, /etc/netns/ambit-*, the cgroup tree, the agents' eBPF capture "
                   "(/sys/fs/bpf/ambit-lab) and /run/ambit-lab. "
                   "Safe to run when nothing is up, and finds leftovers without the state file.")
    s = sub.add_parser("status", help="nodes, pods and services")
    s.add_argument("-o", "--output", choices=["table", "json"], default="table",
                   help="json: the same facts for scripts and tests")

    for name, verb in (("apply", "create or update"), ("delete", "delete")):
        s = sub.add_parser(name, help=f"{verb} the objects in Kubernetes/Istio YAML",
                           description=f"{verb.capitalize()} the objects of every .yaml, .yml "
                           "and .json file given (directories are read recursively, files in "
                           "name order). A file with an error is refused whole.")
        s.add_argument("-f", "--filename", required=True, action="append", metavar="FILE|DIR")

    s = sub.add_parser("exec", help="run a command in a pod's network namespace and cgroup",
                       description="Runs CMD in the pod's network namespace and cgroup, with the "
                       "pod's environment and /etc/hosts. POD is [namespace/]name or a "
                       "deployment name (its first pod).")
    s.add_argument("pod", metavar="POD")
    s.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD...")

    s = sub.add_parser("logs", help="show the log of the control plane, an agent or a pod")
    s.add_argument("component", metavar="COMPONENT",
                   help="'control', 'agent-<node>', 'prometheus', or a pod ([namespace/]name or "
                   "deployment)")
    s.add_argument("-f", "--follow", action="store_true", help="keep printing (tail -f)")
    s.add_argument("--tail", type=int, default=0, metavar="N", help="only the last N lines")

    s = sub.add_parser("label", help="change a namespace's labels",
                       description="Rewrites the Namespace in the control plane's config dir, "
                       "e.g. to enroll a namespace in the mesh without restarting its pods: "
                       "scripts/lab label namespace legacy istio.io/dataplane-mode=ambient")
    s.add_argument("kind", choices=["namespace", "ns"])
    s.add_argument("name")
    s.add_argument("labels", nargs="+", metavar="key=value|key-")

    s = sub.add_parser("restart", help="restart the control plane or a node agent",
                       description="Stops the component (SIGTERM, then SIGKILL after "
                       f"{cluster.RESTART_GRACE:g} s) and starts it again with the same command "
                       "line, network namespace, cgroup and log file (appended to), then waits "
                       f"(at most {cluster.UP_TIMEOUT} s) until it is ready, as 'up' does. Pods "
                       "keep running: a node agent re-reads the CNI plugin's pod records.")
    s.add_argument("component", metavar="COMPONENT",
                   help="'control', 'agent-<node>' (e.g. agent-node1) or 'prometheus'")

    s = sub.add_parser("query", aliases=["promql"],
                       help="an instant PromQL query against the lab's Prometheus",
                       description="Runs PROMQL through the HTTP API (/api/v1/query) of the "
                       "Prometheus 'up --prometheus' started and prints the result: one line "
                       "'{labels} value' per series, values as Prometheus returned them.",
                       epilog="example: scripts/lab query 'sum by (destination_version) "
                       "(rate(istio_requests_total{reporter=\"waypoint\"}[1m]))'")
    s.add_argument("promql", metavar="PROMQL")
    s.add_argument("--wait-scrape", action="store_true",
                   help="first wait (at most 30 s) until every agent and waypoint was scraped "
                   "after this command started, so the answer includes what happened before it")
    s.add_argument("-o", "--output", choices=["text", "json"], default="text",
                   help="json: the API's data object ({resultType, result}) as it came")
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        require_root()
        return COMMANDS[args.command](args) or 0
    except LabError as e:
        print(f"lab: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("lab: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. scripts/lab status | head
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def remove_lock_file():
    try:
        os.unlink(LOCK_FILE)
    except FileNotFoundError:
        pass


def cmd_up(args):
    with locked():
        try:
            cluster.up(args.nodes, args.build_dir, args.no_agents, args.agent_arg, args.redirect,
                       args.prometheus)
        except BaseException:
            if not os.path.exists(cluster.STATE_FILE) and not cluster.leftovers():
                remove_lock_file()  # a failed up leaves nothing behind
            raise


def cmd_down(args):
    with locked():
        cluster.down()
        remove_lock_file()


def _files_command(args, fn):
    with locked():
        state = load_state()
        errors = []
        for target in args.filename:
            errors += fn(state, target)
    for e in errors:
        print(f"lab: error: {e}", file=sys.stderr)
    return 1 if errors else 0


def cmd_apply(args):
    return _files_command(args, cluster.apply)


def cmd_delete(args):
    return _files_command(args, cluster.delete)


def cmd_label(args):
    with locked():
        cluster.label_namespace(load_state(), args.name, args.labels)


def cmd_restart(args):
    with locked():
        cluster.restart(load_state(), args.component)


def find_pod(state, ref):
    pods = state["pods"]
    if "/" in ref:
        ns, name = ref.split("/", 1)
        cands = [(ns, name)]
    else:
        name = ref
        nss = sorted({p["namespace"] for p in pods.values()})
        cands = [(ns, name) for ns in (["default"] + [n for n in nss if n != "default"])]
    found = []
    for ns, name in cands:
        if f"{ns}/{name}" in pods:
            found.append(pods[f"{ns}/{name}"])
            continue
        owned = sorted((p for p in pods.values() if p["namespace"] == ns
                        and p.get("owner") == name), key=lambda p: p["created"])
        if owned:
            found.append(owned[0])
    if not found:
        raise LabError(f"pod or deployment '{ref}' not found (see scripts/lab status)")
    if len(found) > 1 and found[0]["namespace"] != "default":
        raise LabError(f"'{ref}' is ambiguous: " + ", ".join(
            f"{p['namespace']}/{ref}" for p in found) + "; name the namespace")
    return found[0]


def cmd_exec(args):
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        raise LabError("no command given: scripts/lab exec POD -- CMD...")
    pod = find_pod(load_state(), args.pod)
    if not os.path.isdir(pod["cgroup"]):
        raise LabError(f"pod {pod['namespace']}/{pod['name']} has no cgroup (is it running?)")
    with open(os.path.join(pod["cgroup"], "cgroup.procs"), "w") as f:
        f.write("0")
    os.chdir(pod.get("cwd") or "/")
    ipbin = tool("ip")
    try:
        os.execve(ipbin, [ipbin, "netns", "exec", pod["netns"]] + cmd, pod["env"])
    except OSError as e:
        raise LabError(f"exec: {e}")


def cmd_logs(args):
    state = load_state()
    c = args.component
    if c == "control":
        path = os.path.join(LOGS, "control.log")
    elif c.startswith("agent-") and any(n["name"] == c[6:] for n in state["nodes"]):
        path = os.path.join(LOGS, f"{c}.log")
    elif c == "prometheus":
        if not prometheus.enabled(state):
            raise LabError("the lab runs without Prometheus (start it with 'scripts/lab up "
                           "--prometheus')")
        path = state["prometheus"]["log"]
    else:
        path = find_pod(state, c)["log"]
    if not os.path.exists(path):
        raise LabError(f"{path}: no log yet")
    if args.follow:
        t = tool("tail")
        os.execv(t, [t, "-n", str(args.tail or 10), "-F", path])
    with open(path, errors="replace") as f:
        lines = f.readlines()
    sys.stdout.write("".join(lines[-args.tail:] if args.tail else lines))


def agent_pods(node):
    """The agent's view of its pods from /debug/pods ({"pods": [{"uid", "namespace", "name",
    "enrolled", "error", ...}]}): {uid or "ns/name": (enrolled, error)}, or None if it does not
    answer."""
    code, body = http_get(node["netns"], f"http://{node['ip']}:{AGENT_ADMIN_PORT}/debug/pods", 1)
    if code != 200:
        return None
    try:
        pods = json.loads(body).get("pods", [])
    except (ValueError, AttributeError):
        return None
    out = {}
    for p in pods if isinstance(pods, list) else []:
        if not isinstance(p, dict):
            continue
        entry = (p.get("enrolled", True) is True, str(p.get("error") or ""))
        if p.get("uid"):
            out[str(p["uid"])] = entry
        if p.get("namespace") and p.get("name"):
            out[f"{p['namespace']}/{p['name']}"] = entry
    return out


def table(rows):
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip())


def gather_status(state):
    ctl_alive = procs.alive(state["control"]["pid"])
    code, _ = http_get(FABRIC_NS, f"http://{FABRIC_IP}:{CONTROL_DEBUG_PORT}/ready", 1) \
        if ctl_alive else (None, "")
    out = {"control": {"running": ctl_alive, "ready": code == 200,
                       "grpc": f"{FABRIC_IP}:15012",
                       "debug": f"http://{FABRIC_IP}:{CONTROL_DEBUG_PORT}"},
           "capture": state.get("redirect", "nftables") if not state["no_agents"] else None,
           "prometheus": prometheus.status(state),
           "nodes": [], "pods": [], "services": []}
    enrolled = {}
    for n in state["nodes"]:
        node = {"name": n["name"], "netns": n["netns"], "ip": n["ip"], "cidr": n["cidr"],
                "agent": None}
        if not state["no_agents"]:
            running = procs.alive(n.get("agent_pid"))
            ready = False
            if running:
                c, _ = http_get(n["netns"], f"http://{n['ip']}:{AGENT_READY_PORT}/healthz/ready",
                                1)
                ready = c == 200
                enrolled[n["name"]] = agent_pods(n)
            node["agent"] = {"running": running, "ready": ready, "pid": n.get("agent_pid")}
        out["nodes"].append(node)
    ns_objs = {k.split("/")[-1]: o for k, o in state["objects"].items()
               if k.startswith("Namespace./")}
    for key, p in sorted(state["pods"].items()):
        labels = (ns_objs.get(p["namespace"], {}).get("metadata") or {}).get("labels") or {}
        seen = enrolled.get(p["node"])
        alive = procs.alive(p["pid"])
        agent_view = None if seen is None else seen.get(p["uid"], seen.get(key, (False, "")))
        out["pods"].append({
            "namespace": p["namespace"], "name": p["name"], "uid": p["uid"], "node": p["node"],
            "ip": p["ip"], "netns": p["netns"], "labels": p["labels"], "owner": p.get("owner"),
            "running": alive, "ready": bool(p["ready"] and alive),
            "ambient": labels.get("istio.io/dataplane-mode") == "ambient"
            and p["labels"].get("istio.io/dataplane-mode") != "none",
            "enrolled": None if agent_view is None else agent_view[0],
            "agent_error": None if agent_view is None else agent_view[1]})
    for svc in services(state):
        eps = endpoints(state, svc)
        out["services"].append({
            "namespace": svc["metadata"]["namespace"], "name": svc["metadata"]["name"],
            "clusterIP": svc["spec"].get("clusterIP"),
            "ports": [{"name": p.get("name", ""), "port": p["port"],
                       "protocol": p.get("protocol", "TCP"),
                       "endpoints": [f"{ip}:{port}" for ip, port, _ in e]} for p, e in eps]})
    return out


def cmd_status(args):
    st = gather_status(load_state())
    if args.output == "json":
        print(json.dumps(st, indent=2))
        return
    c = st["control"]
    print(f"control plane: {'running' if c['running'] else 'NOT RUNNING'}"
          f"{', ready' if c['ready'] else ', not ready' if c['running'] else ''} "
          f"(grpc {c['grpc']}, debug {c['debug']})")
    if st["capture"]:
        print(f"capture: {st['capture']}")
    pr = st["prometheus"]
    if pr:
        print(f"prometheus: {'running' if pr['running'] else 'NOT RUNNING'}"
              f"{', ready' if pr['ready'] else ', not ready' if pr['running'] else ''} "
              f"({pr['url']}, in {FABRIC_NS}; data in {pr['data']})")
    print()
    rows = [("NODE", "NETNS", "IP", "POD CIDR", "AGENT")]
    for n in st["nodes"]:
        a = n["agent"]
        agent = "none (--no-agents)" if a is None else "NOT RUNNING" if not a["running"] \
            else "running, ready" if a["ready"] else "running, not ready"
        rows.append((n["name"], n["netns"], n["ip"], n["cidr"], agent))
    table(rows)
    print()
    rows = [("NAMESPACE", "POD", "NODE", "IP", "STATUS", "AMBIENT", "ENROLLED")]
    for p in st["pods"]:
        status = ("Running" if p["ready"] else "Running (not ready)") if p["running"] \
            else "Exited"
        enr = "-" if p["enrolled"] is None else "yes" if p["enrolled"] else \
            f"no: {p['agent_error']}" if p["agent_error"] else "no"
        rows.append((p["namespace"], p["name"], p["node"], p["ip"], status,
                     "yes" if p["ambient"] else "no", enr))
    if len(rows) > 1:
        table(rows)
    else:
        print("no pods")
    print()
    rows = [("NAMESPACE", "SERVICE", "CLUSTER-IP", "PORTS", "ENDPOINTS")]
    for s in st["services"]:
        ports = ",".join(f"{p['port']}/{p['protocol']}" for p in s["ports"])
        eps = " ".join(sorted({e for p in s["ports"] for e in p["endpoints"]})) or "<none>"
        rows.append((s["namespace"], s["name"], s["clusterIP"], ports, eps))
    if len(rows) > 1:
        table(rows)
    else:
        print("no services")


def cmd_query(args):
    state = load_state()
    if args.wait_scrape and prometheus.enabled(state):
        since = time.time()
        if not prometheus.wait_scraped_after(state, since):
            raise LabError("Prometheus did not scrape every agent and waypoint within 30 s "
                           "(see scripts/lab logs prometheus)")
    data = prometheus.query(state, args.promql)
    if args.output == "json":
        print(json.dumps(data, indent=2))
        return
    for line in prometheus.format_result(data):
        print(line)


COMMANDS = {"up": cmd_up, "down": cmd_down, "status": cmd_status, "apply": cmd_apply,
            "delete": cmd_delete, "exec": cmd_exec, "logs": cmd_logs, "label": cmd_label,
            "restart": cmd_restart, "query": cmd_query, "promql": cmd_query}
