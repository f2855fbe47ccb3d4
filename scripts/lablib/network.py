"""The lab's network: a fabric bridge, one netns per node, one routed /32 netns per pod.

    fabric netns (bridge br0 10.200.0.1/24, ambit-control)
      |-- veth nI <-> eth0 of node netns ambit-nodeI (10.200.0.(10+I)), pod CIDR 10.244.I.0/24
            |-- veth apK <-> eth0 of a pod netns (10.244.I.x/32, default via 169.254.1.1)

Nothing in the root namespace changes: every veth is created between two lab namespaces.
"""
import os
import shutil

from .base import (FABRIC_IP, FABRIC_NS, GATEWAY, LAB_NETNS, NETNS_ETC, PREFIX, LabError, ip,
                   ip_batch, lab_netns_list, netns_list, sysctls)


def node_ip(i):
    return f"10.200.0.{10 + i}"


def node_cidr(i):
    return f"10.244.{i}.0/24"


def node_ns(i):
    return f"{PREFIX}node{i}"


def add_netns(name):
    if name in netns_list():
        raise LabError(f"network namespace {name} already exists (run 'scripts/lab down' first)")
    ip("netns", "add", name)
    ip("link", "set", "lo", "up", ns=name)


def create_fabric(nodes):
    add_netns(FABRIC_NS)
    ip_batch(["link add br0 type bridge", f"addr add {FABRIC_IP}/24 dev br0", "link set br0 up"],
             ns=FABRIC_NS)
    sysctls(FABRIC_NS, [("net.ipv4.ip_forward", 1)])
    for i in range(1, nodes + 1):
        create_node(i, nodes)


def create_node(i, nodes):
    ns = node_ns(i)
    add_netns(ns)
    ip("link", "add", f"n{i}", "type", "veth", "peer", "name", "eth0", "netns", ns, ns=FABRIC_NS)
    ip_batch([f"link set n{i} master br0", f"link set n{i} up",
              f"route add {node_cidr(i)} via {node_ip(i)}"], ns=FABRIC_NS)
    # The default route via the fabric also lets proxy_arp answer the pods' gateway address.
    lines = [f"addr add {node_ip(i)}/24 dev eth0", "link set eth0 up",
             f"route add default via {FABRIC_IP}"]
    lines += [f"route add {node_cidr(j)} via {node_ip(j)}" for j in range(1, nodes + 1) if j != i]
    ip_batch(lines, ns=ns)
    sysctls(ns, [("net.ipv4.ip_forward", 1), ("net.ipv4.conf.all.rp_filter", 0),
                 ("net.ipv4.conf.default.rp_filter", 0)])


def create_pod_net(node_index, pod_ns, host_if, pod_ip):
    """Pod netns with eth0 = pod_ip/32 and a default route through the node (calico style)."""
    nns = node_ns(node_index)
    add_netns(pod_ns)
    try:
        ip("link", "add", host_if, "type", "veth", "peer", "name", "eth0", "netns", pod_ns, ns=nns)
        ip_batch([f"addr add {pod_ip}/32 dev eth0", "link set eth0 up",
                  f"route add {GATEWAY} dev eth0 scope link",
                  f"route add default via {GATEWAY} dev eth0"], ns=pod_ns)
        sysctls(nns, [(f"net.ipv4.conf.{host_if}.proxy_arp", 1),
                      (f"net.ipv4.neigh.{host_if}.proxy_delay", 0),
                      (f"net.ipv4.conf.{host_if}.rp_filter", 0)])
        ip_batch([f"link set {host_if} up", f"route add {pod_ip}/32 dev {host_if}"], ns=nns)
    except LabError:
        delete_pod_net(node_index, pod_ns, host_if)
        raise


def delete_pod_net(node_index, pod_ns, host_if):
    ip("link", "del", host_if, ns=node_ns(node_index), check=False)
    if pod_ns in netns_list():
        ip("netns", "delete", pod_ns, check=False)
    shutil.rmtree(os.path.join(NETNS_ETC, pod_ns), ignore_errors=True)


def delete_all():
    """Deletes the lab's namespaces (pods first, fabric last) and their /etc/netns entries."""
    names = lab_netns_list()
    order = sorted(names, key=lambda n: (n == FABRIC_NS, n.startswith(PREFIX + "node"), n))
    for n in order:
        ip("netns", "delete", n, check=False)
    left = lab_netns_list()
    if os.path.isdir(NETNS_ETC):
        for d in os.listdir(NETNS_ETC):
            if LAB_NETNS.match(d):
                shutil.rmtree(os.path.join(NETNS_ETC, d), ignore_errors=True)
    if left:
        raise LabError(f"could not delete network namespaces: {' '.join(left)}")
    return names
