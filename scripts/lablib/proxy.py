"""What kube-proxy and cluster DNS do: ClusterIPs, DNAT to ready endpoints in every node's netns
(nftables table 'ip ambit-lab-proxy'), and service names in every pod's /etc/hosts."""
import ipaddress
import os

from . import procs
from .base import GATEWAY, NETNS_ETC, LabError, in_netns, tool, write_in_place

TABLE = "ambit-lab-proxy"
SERVICE_RANGE = ipaddress.ip_network("10.96.0.0/16")
HAIRPIN_MARK = 0x4000  # as kube-proxy: a pod reaching itself through a VIP gets SNAT


def services(state):
    return [o for k, o in sorted(state["objects"].items()) if k.startswith("Service./")]


def allocate_vip(state, wanted=None):
    used = {s["spec"].get("clusterIP") for s in services(state)}
    if wanted and wanted != "None":
        if wanted in used:
            raise LabError(f"clusterIP {wanted} is already taken")
        return wanted
    for host in range(10, 65535):
        vip = str(SERVICE_RANGE[host])
        if vip not in used:
            return vip
    raise LabError("the service range 10.96.0.0/16 is full")


def target_port(pod, port):
    """The pod port a service port forwards to; None when a named port is not on the pod."""
    tp = port.get("targetPort", port["port"])
    if isinstance(tp, int) or str(tp).isdigit():
        return int(tp)
    for p in pod.get("ports", []):
        if p.get("name") == tp and p.get("protocol", "TCP") == port.get("protocol", "TCP"):
            return p["containerPort"]
    return None


def endpoints(state, svc):
    """[(port, [(pod ip, target port, pod key)])] for each service port, ready pods only."""
    selector = svc["spec"].get("selector") or {}
    ns = svc["metadata"]["namespace"]
    pods = [p for k, p in sorted(state["pods"].items())
            if selector and p["namespace"] == ns and p.get("ready") and procs.alive(p["pid"])
            and all(p["labels"].get(k2) == v for k2, v in selector.items())]
    out = []
    for port in svc["spec"]["ports"]:
        eps = []
        for p in pods:
            tp = target_port(p, port)
            if tp is not None:
                eps.append((p["ip"], tp, f"{p['namespace']}/{p['name']}"))
        out.append((port, eps))
    return out


def ruleset(state):
    lines = [f"table ip {TABLE}", f"delete table ip {TABLE}", f"table ip {TABLE} {{",
             "  chain prerouting { type nat hook prerouting priority dstnat; policy accept; "
             "jump services; }",
             "  chain output { type nat hook output priority -100; policy accept; "
             "jump services; }",
             "  chain postrouting { type nat hook postrouting priority srcnat; policy accept; "
             f"meta mark & {HAIRPIN_MARK:#x} == {HAIRPIN_MARK:#x} snat to {GATEWAY}; }}"]
    dispatch = []
    chains = []
    for si, svc in enumerate(services(state)):
        vip = svc["spec"].get("clusterIP")
        if not vip or vip == "None":
            continue
        for pi, (port, eps) in enumerate(endpoints(state, svc)):
            if not eps:
                continue  # no rule: the connection fails like one to an unused address
            proto = port.get("protocol", "TCP").lower()
            chain = f"svc{si}-{pi}"
            dispatch.append(f"    ip daddr {vip} {proto} dport {port['port']} goto {chain}")
            ep_chains = []
            for ei, (ep_ip, ep_port, _) in enumerate(eps):
                ep_chain = f"{chain}-ep{ei}"
                ep_chains.append(ep_chain)
                chains.append(f"  chain {ep_chain} {{ ip saddr {ep_ip} meta mark set mark or "
                              f"{HAIRPIN_MARK:#x}; meta l4proto {proto} dnat to {ep_ip}:{ep_port}; }}")
            if len(ep_chains) == 1:
                chains.append(f"  chain {chain} {{ goto {ep_chains[0]}; }}")
            else:
                vmap = ", ".join(f"{i} : goto {c}" for i, c in enumerate(ep_chains))
                chains.append(f"  chain {chain} {{ numgen random mod {len(ep_chains)} "
                              f"vmap {{ {vmap} }}; }}")
    lines += ["  chain services {"] + dispatch + ["  }"] + chains + ["}"]
    return "\n".join(lines) + "\n"


def program(state):
    """Writes the DNAT rules into every node's netns, and the hosts files of every pod."""
    rules = ruleset(state)
    for node in state["nodes"]:
        in_netns(node["netns"], [tool("nft"), "-f", "-"], input=rules)
    for pod in state["pods"].values():
        write_hosts(state, pod)


def hosts_text(state, pod):
    own, other = [], []
    for svc in services(state):
        vip = svc["spec"].get("clusterIP")
        if not vip or vip == "None":
            continue
        name, ns = svc["metadata"]["name"], svc["metadata"]["namespace"]
        names = [f"{name}.{ns}", f"{name}.{ns}.svc", f"{name}.{ns}.svc.cluster.local"]
        (own if ns == pod["namespace"] else other).append((vip, name, names))
    own_short = {name for _, name, _ in own}
    seen_short = set(own_short)
    lines = ["# Written by scripts/lab: the pod's own name and every Service's names.",
             "127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback",
             f"{pod['ip']}\t{pod['name']}"]
    for vip, name, names in own:
        lines.append(f"{vip}\t{name} " + " ".join(names))
    for vip, name, names in other:
        # A short name means the pod's own namespace first, as with cluster DNS search paths.
        short = "" if name in seen_short else name + " "
        seen_short.add(name)
        lines.append(f"{vip}\t{short}" + " ".join(names))
    return "\n".join(lines) + "\n"


def write_hosts(state, pod):
    d = os.path.join(NETNS_ETC, pod["netns"])
    write_in_place(os.path.join(d, "hosts"), hosts_text(state, pod))
    resolv = os.path.join(d, "resolv.conf")
    if not os.path.exists(resolv):
        # No name server in the lab: names that are not in hosts fail at once instead of
        # waiting for the host's resolver, which a pod cannot reach.
        write_in_place(resolv, "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
