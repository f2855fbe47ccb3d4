#!/usr/bin/python3
"""System tests of ambit-agent (with ambit-cni and ambit-control) on a two-node lab.

Brings up `scripts/lab up --nodes 2`, applies samples/lab (namespace demo in the ambient mesh,
namespace legacy outside it, a two-replica echo Deployment and a client in each namespace) and
drives the cluster as a user would, through scripts/lab and ip netns exec:

  capture only for ambient pods; mesh traffic through the agents on one node and across nodes in
  mutual-TLS HBONE tunnels (only TLS on 15008 on the wire, the client's SPIFFE identity seen by
  the server side); traffic from outside the mesh into it; AuthorizationPolicy by principal, port
  and the users' deny-all, PeerAuthentication STRICT with a port-level PERMISSIVE, and a policy
  closing a connection already open; enrolling and releasing a namespace by label with the pods
  kept running; an agent restart; a control plane restart under a live connection and the
  control plane down; certificate rotation under traffic; drain on SIGTERM; and finally that
  `scripts/lab down` leaves the machine as it found it.

Needs root (network namespaces, cgroups). Every wait is bounded and every command has a timeout.

  lab_system_test.py --build-dir build/release [--repo .] [unittest options]
"""

import argparse
import json
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from labtest import (SKIPPED, add_lab_pids, find_pods, lab, lab_argv, lab_leftovers,  # noqa: E402
                     log, metrics, node_get, node_of, run, state_file, status, wait_for)
import labtest  # noqa: E402

ARGS = None
N_REQUESTS = 8

# Inside a pod: one HTTP request per connection (curl would reuse one connection for many URLs).
REQUESTS_SCRIPT = """
import http.client, sys
for i in range(int(sys.argv[1])):
    try:
        c = http.client.HTTPConnection("echo.demo", 80, timeout=5)
        c.request("GET", "/")
        r = c.getresponse()
        body = r.read().decode()
        c.close()
        print("STATUS", r.status)
        print(body.strip())
    except Exception as e:
        print("STATUS", "error", repr(e))
    print("--")
"""

ALLOW_POLICY = """\
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-demo-client, namespace: demo}
spec:
  action: ALLOW
  rules:
  - from:
    - source: {principals: ["cluster.local/ns/demo/sa/client"]}
"""

STRICT_POLICY = """\
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: demo}
spec:
  mtls: {mode: STRICT}
"""

PORT_PERMISSIVE_POLICY = """\
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: echo-http-permissive, namespace: demo}
spec:
  selector:
    matchLabels: {app: echo}
  mtls: {mode: STRICT}
  portLevelMtls:
    8080: {mode: PERMISSIVE}
"""

DENY_ALL_POLICY = """\
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-all, namespace: demo}
spec: {}
"""

DENY_PORT_POLICY = """\
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-tcp-echo, namespace: demo}
spec:
  action: DENY
  rules:
  - to:
    - operation: {ports: ["9000"]}
"""

# Inside a pod: one short TCP echo on echo.demo:9000; prints ECHO <text> or ERROR <why>.
TCP_ONCE_SCRIPT = """
import socket
try:
    s = socket.create_connection(("echo.demo", 9000), timeout=5)
    s.sendall(b"once\\n")
    got = s.recv(100)
    print("ECHO", got.decode().strip() if got else "(closed)")
except Exception as e:
    print("ERROR", repr(e))
"""

# Inside a pod: sends some bytes, half-closes, reads the echo up to EOF.
HALF_CLOSE_SCRIPT = """
import socket, sys
data = bytes((i * 7 + 3) % 251 for i in range(int(sys.argv[1])))
s = socket.create_connection(("echo.demo", 9000), timeout=10)
s.sendall(data)
s.shutdown(socket.SHUT_WR)
got = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    got += chunk
print("SENT", len(data), "GOT", len(got), "EQUAL", got == data, flush=True)
"""

# Inside a pod: one long-lived TCP connection; every line read on stdin is sent, its echo printed.
LONG_CONN_SCRIPT = """
import socket, sys
s = socket.create_connection(("echo.demo", 9000), timeout=10)
print("CONNECTED", s.getsockname()[0], flush=True)
f = s.makefile("rb")
for line in sys.stdin:
    s.sendall(line.encode())
    print("ECHO", f.readline().decode().rstrip("\\n"), flush=True)
s.shutdown(socket.SHUT_WR)
print("EOF", f.read() == b"", flush=True)
"""


class LongConnection:
    """LONG_CONN_SCRIPT in a pod: one TCP connection to echo.demo:9000 kept open by the test."""

    def __init__(self, pod):
        self.proc = subprocess.Popen(
            lab_argv("exec", f"{pod['namespace']}/{pod['name']}", "--", "python3", "-u", "-c",
                     LONG_CONN_SCRIPT),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            bufsize=1)
        self.lines = queue.Queue()
        threading.Thread(target=lambda: [self.lines.put(x.rstrip("\n")) for x in self.proc.stdout],
                         daemon=True).start()

    def read_line(self, what, timeout=10, check=True):
        """The next line; None (check=False) when the script ended or `timeout` passed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                return self.lines.get(timeout=0.05)
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    break
        if not check:
            return None
        raise AssertionError(f"long-lived connection: no {what} within {timeout} s "
                             f"(running: {self.proc.poll() is None})")

    def echo(self, text, timeout=10, check=True):
        try:
            self.proc.stdin.write(text + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            return None
        return self.read_line(f"echo of {text!r}", timeout, check)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except (OSError, ValueError):
                pass


def connections(node, direction, result="relayed"):
    key = f'ambit_agent_connections_total{{direction="{direction}",result="{result}"}}'
    return metrics(node).get(key, 0.0)


def debug_pods(node):
    return {f"{p['namespace']}/{p['name']}": p
            for p in json.loads(node_get(node, "/debug/pods")).get("pods", [])}


def has_ambit_table(netns):
    p = run(["ip", "netns", "exec", netns, "nft", "list", "table", "inet", "ambit"],
            timeout=10, check=False)
    return p.returncode == 0


def netfilter_ruleset(netns):
    return run(["ip", "netns", "exec", netns, "nft", "list", "ruleset"], timeout=10).stdout


def bpf_enrolled_ips(node):
    """The pod addresses the node agent's eBPF capture holds (its /debug/capture)."""
    capture = json.loads(node_get(node, "/debug/capture"))
    return {ip for ns in capture["bpf"]["enrolled_netns"] for ip in ns["addresses"]}


def captured(pod, st=None):
    """Whether capture is installed for the pod, in the lab's capture mode: the inet ambit table
    (nftables) or the pod's address in its agent's BPF maps (ebpf)."""
    if ARGS.redirect == "nftables":
        return has_ambit_table(pod["netns"])
    node = node_of(st or status(), pod["node"])
    return pod["ip"] in bpf_enrolled_ips(node)


def exec_in(pod, *cmd, timeout=30, check=True, input=None):
    return lab("exec", f"{pod['namespace']}/{pod['name']}", "--", *cmd, timeout=timeout,
               check=check, input=input)


# A TCP connect and one HTTP request from inside a pod: prints "OK <status line>" or "FAIL why".
CONNECT_SCRIPT = r"""
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
    s.settimeout(3)
    s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
    data = s.recv(200)
    print("OK " + data.split(b"\r\n")[0].decode() if data else "FAIL closed without a reply")
except OSError as e:
    print(f"FAIL {e}")
"""


def http_requests(pod, n):
    """n requests to http://echo.demo/ from pod, one connection each: a list of dicts of the
    echo's key=value lines (plus 'STATUS')."""
    out = exec_in(pod, "python3", "-c", REQUESTS_SCRIPT, str(n), timeout=10 + 6 * n).stdout
    answers = []
    for block in out.split("--\n"):
        if not block.strip():
            continue
        d = {}
        for line in block.splitlines():
            if line.startswith("STATUS "):
                d["STATUS"] = line[7:]
            elif "=" in line:
                k, v = line.split("=", 1)
                d[k] = v
        answers.append(d)
    return answers


def process_running(pid):
    """False once `pid` has exited (a zombie waiting for its parent counts as exited)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def enrolled_in_status(st, pod):
    return next(p for p in st["pods"] if p["uid"] == pod["uid"])["enrolled"]


def host_snapshot():
    """What the lab must leave unchanged in the root namespace."""
    links = run(["ip", "-o", "link", "show"]).stdout.splitlines()
    return {"ip link names": sorted(line.split(":")[1].strip() for line in links if ":" in line),
            "ip route": run(["ip", "route"]).stdout,
            "ip -6 route": run(["ip", "-6", "route"], check=False).stdout,
            "nft list ruleset": run(["nft", "list", "ruleset"]).stdout}


def log_tails():
    for c in ["control", "agent-node1", "agent-node2", "demo/echo", "demo/client"]:
        p = lab("logs", c, "--tail", "40", check=False, timeout=20)
        print(f"\n----- scripts/lab logs {c} --tail 40 -----\n{p.stdout}{p.stderr}",
              file=sys.stderr, flush=True)
    p = lab("status", check=False, timeout=30)
    print(f"\n----- scripts/lab status -----\n{p.stdout}{p.stderr}", file=sys.stderr, flush=True)


def explain_failures(fn):
    """On a failure, prints the lab's logs before the lab goes down."""
    def wrapper(self):
        try:
            fn(self)
        except BaseException:
            traceback.print_exc()
            log_tails()
            raise
    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


class LabSystemTest(unittest.TestCase):
    """One two-node lab for all the scenarios."""

    lab_pids = set()

    @classmethod
    def setUpClass(cls):
        start = time.monotonic()
        log("scripts/lab down (clean slate)")
        lab("down", timeout=120)
        cls.before = host_snapshot()
        try:
            log(f"scripts/lab up --nodes 2 --redirect {ARGS.redirect} --build-dir {ARGS.build_dir}")
            lab("up", "--nodes", "2", "--redirect", ARGS.redirect, "--build-dir", ARGS.build_dir,
                "--agent-arg=--certificate-ttl-s=120", timeout=180)
            log("scripts/lab apply -f samples/lab")
            lab("apply", "-f", os.path.join(ARGS.repo, "samples", "lab"), timeout=180)
            wait_for("the demo pods enrolled", lambda: all(
                p["enrolled"] for p in status()["pods"] if p["namespace"] == "demo"))
            cls.remember_pids()
        except BaseException:
            traceback.print_exc()
            log_tails()
            lab("down", timeout=120, check=False)
            raise
        log(f"lab up with samples/lab in {time.monotonic() - start:.1f} s")

    @classmethod
    def tearDownClass(cls):
        cls.remember_pids()
        log("scripts/lab down")
        lab("down", timeout=120)
        cls.check_nothing_left()

    @classmethod
    def remember_pids(cls):
        add_lab_pids(cls.lab_pids)

    @classmethod
    def check_nothing_left(cls):
        """Scenario 7: lab down leaves the machine as it was before up."""
        problems = lab_leftovers(cls.lab_pids)
        after = host_snapshot()
        for what, text in cls.before.items():
            if after[what] != text:
                problems.append(f"root namespace '{what}' changed:\nbefore:\n{text}\n"
                                f"after:\n{after[what]}")
        if problems:
            raise AssertionError("scripts/lab down left things behind:\n" + "\n".join(problems))
        log("lab down left nothing behind")

    # ------------------------------------------------------------------------------- helpers

    def pods(self):
        st = status()
        return (st, find_pods(st, "demo", "client")[0], find_pods(st, "legacy", "client")[0],
                find_pods(st, "demo", "echo"))

    def wait_demo_enrolled(self):
        wait_for("the demo pods enrolled", lambda: all(
            p["enrolled"] for p in status()["pods"] if p["namespace"] == "demo"))

    def assert_echo_answers(self, answers, client_ip, n, echo_pods=None):
        bad = [a for a in answers if a.get("STATUS") != "200"]
        self.assertEqual(len(answers), n, answers)
        self.assertFalse(bad, f"failed requests: {bad}")
        for a in answers:
            self.assertEqual(a.get("peer"), client_ip, f"echo saw another peer: {a}")
            self.assertEqual(a.get("namespace"), "demo", a)
        if echo_pods:
            by_name = {p["name"]: p for p in echo_pods}
            for a in answers:
                self.assertIn(a.get("pod"), by_name, a)
                self.assertEqual(a.get("node"), by_name[a["pod"]]["node"], a)

    # ----------------------------------------------------------------------------- scenarios

    @explain_failures
    def test_1_capture_only_for_ambient_pods(self):
        """The demo pods carry the inet ambit table and are enrolled; the legacy pod neither."""
        self.wait_demo_enrolled()
        st, client, legacy, echos = self.pods()
        for p in [client] + echos:
            self.assertTrue(p["ambient"], p)
            self.assertTrue(captured(p, st),
                            f"{p['namespace']}/{p['name']}: no {ARGS.redirect} capture in "
                            f"{p['netns']}")
            self.assertIs(p["enrolled"], True, p)
        self.assertFalse(legacy["ambient"], legacy)
        self.assertFalse(captured(legacy, st),
                         f"legacy/{legacy['name']} is captured ({ARGS.redirect})")
        if ARGS.redirect == "ebpf":
            # eBPF capture leaves no netfilter rule in any pod, and its programs counted.
            for p in [client, legacy] + echos:
                self.assertEqual(netfilter_ruleset(p["netns"]), "",
                                 f"{p['namespace']}/{p['name']} has netfilter rules in eBPF mode")
            for n in st["nodes"]:
                capture = json.loads(node_get(n, "/debug/capture"))
                self.assertEqual(capture["mode"], "ebpf", capture)
                self.assertEqual(len(capture["bpf"]["cgroup_links"]), 6, capture)
                for link in capture["bpf"]["cgroup_links"]:
                    self.assertGreater(link["program_id"], 0, link)
        self.assertIs(legacy["enrolled"], False, legacy)
        # The agents' own view, straight from /debug/pods.
        for p in [client, legacy] + echos:
            seen = debug_pods(node_of(st, p["node"]))
            key = f"{p['namespace']}/{p['name']}"
            self.assertIn(key, seen, f"{p['node']} agent does not know {key}: {sorted(seen)}")
            self.assertEqual(seen[key]["uid"], p["uid"])
            self.assertEqual(seen[key]["ips"], [p["ip"]])
            self.assertIs(seen[key]["enrolled"], p["namespace"] == "demo", seen[key])
            self.assertEqual(seen[key]["error"], "", seen[key])

    @explain_failures
    def test_2_through_the_agents_same_node_and_cross_node(self):
        """demo/client -> echo.demo is relayed by its agent to both echo pods (one per node)."""
        self.wait_demo_enrolled()
        st, client, _, echos = self.pods()
        self.assertEqual(sorted(p["node"] for p in echos), ["node1", "node2"],
                         "the echo replicas should be on different nodes")
        cnode = node_of(st, client["node"])
        before = connections(cnode, "outbound")
        answers = http_requests(client, N_REQUESTS)
        self.assert_echo_answers(answers, client["ip"], N_REQUESTS, echos)
        self.assertEqual({a["pod"] for a in answers}, {p["name"] for p in echos},
                         "both echo pods should answer (the agent balances round robin)")
        self.assertEqual({a["node"] for a in answers}, {"node1", "node2"})
        wait_for(f"{cnode['name']} outbound relayed counter +{N_REQUESTS} (from {before})",
                 lambda: connections(cnode, "outbound") >= before + N_REQUESTS)

        # Raw TCP: a short echo, then a bigger one with a half-close in the middle.
        out = exec_in(client, "python3", "-c", "import socket; s = socket.create_connection("
                      "('echo.demo', 9000), timeout=5); s.sendall(b'hello mesh\\n'); "
                      "print(s.recv(100).decode(), end='')").stdout
        self.assertEqual(out, "hello mesh\n")
        for size in (1, 100000):
            out = exec_in(client, "python3", "-c", HALF_CLOSE_SCRIPT, str(size)).stdout.strip()
            self.assertEqual(out, f"SENT {size} GOT {size} EQUAL True",
                             f"half-closed TCP echo of {size} bytes")

    @explain_failures
    def test_3_from_outside_the_mesh(self):
        """legacy/client (not captured) reaches echo.demo; the echo pods' agents relay it inbound
        with the client's address preserved."""
        self.wait_demo_enrolled()
        st, _, legacy, echos = self.pods()
        self.assertFalse(captured(legacy))
        nodes = [node_of(st, n) for n in sorted({p["node"] for p in echos})]
        before = sum(connections(n, "inbound") for n in nodes)
        answers = http_requests(legacy, N_REQUESTS)
        self.assert_echo_answers(answers, legacy["ip"], N_REQUESTS, echos)
        wait_for(f"inbound relayed counters +{N_REQUESTS} (from {before})",
                 lambda: sum(connections(n, "inbound") for n in nodes) >= before + N_REQUESTS)

    def apply_policy(self, text, name):
        """Applies `text` for the rest of the test; deleted again at cleanup."""
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        path = os.path.join(tmp.name, f"{name}.yaml")
        with open(path, "w") as f:
            f.write(text)
        lab("apply", "-f", path)
        self.addCleanup(lambda: lab("delete", "-f", path, check=False))
        return path

    def statuses(self, pod, n=2):
        return [a["STATUS"] for a in http_requests(pod, n)]

    @explain_failures
    def test_2b_mutual_tls_on_the_wire(self):
        """Between the nodes, mesh traffic is TLS on port 15008 only: a marker sent by the demo
        client never crosses the fabric in clear, and the echo pod's agent saw the client's own
        SPIFFE identity; traffic from outside the mesh stays plaintext (it is not the mesh's)."""
        self.wait_demo_enrolled()
        st, client, _, echos = self.pods()
        remote = next(p for p in echos if p["node"] != client["node"])
        cnode = node_of(st, client["node"])
        marker = f"ambit-wire-marker-{os.getpid()}-{int(time.time())}"
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        pcap = os.path.join(tmp.name, "node.pcap")
        # Every TCP packet between the two pods' addresses, on the client node's side.
        dump = subprocess.Popen(
            ["ip", "netns", "exec", cnode["netns"], "tcpdump", "-Z", "root", "-i", "any", "-U",
             "--immediate-mode",
             "-s", "0", "-w", pcap, f"tcp and host {client['ip']} and host {remote['ip']}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            listening = queue.Queue()
            threading.Thread(target=lambda: [listening.put(x) for x in dump.stderr],
                             daemon=True).start()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    if b"listening on" in listening.get(timeout=0.5):
                        break
                except queue.Empty:
                    pass
            else:
                raise AssertionError("tcpdump did not start listening within 10 s")
            script = ("import socket; s = socket.create_connection(('%s', 9000), timeout=5); "
                      "s.sendall(b'%s\\n'); print(s.recv(200).decode(), end='')"
                      % (remote["ip"], marker))
            out = exec_in(client, "python3", "-c", script).stdout
            self.assertEqual(out, marker + "\n", "the TCP echo through the tunnel")
            wait_for("tcpdump wrote the packets", lambda: os.path.getsize(pcap) > 1000,
                     timeout=5, interval=0.1)
        finally:
            dump.terminate()
            dump.wait(10)
        with open(pcap, "rb") as f:
            captured = f.read()
        rest = b""
        while not listening.empty():
            rest += listening.get()
        self.assertGreater(len(captured), 200, f"tcpdump captured nothing: {rest!r}")
        self.assertNotIn(marker.encode(), captured,
                         "the marker crossed the node in plaintext: the tunnel is not encrypted")
        ports = run(["tcpdump", "-nn", "-r", pcap], timeout=30).stdout
        conversations = set(re.findall(r"\.(\d+) [<>] [0-9.]+\.(\d+)", ports))
        self.assertTrue(any("15008" in c for c in conversations), ports[:2000])
        for src, dst in conversations:
            self.assertIn("15008", (src, dst), f"pod-to-pod TCP not on 15008: {src} -> {dst}")
        # The server side saw the client's identity.
        rnode = node_of(st, remote["node"])
        logs = lab("logs", f"agent-{rnode['name']}", "--tail", "200").stdout
        # Its access-log line names both verified identities.
        self.assertRegex(logs, r"access: .*src\.identity=spiffe://cluster\.local/ns/demo/sa/client"
                         r" .*dst\.identity=spiffe://cluster\.local/ns/demo/sa/echo")

    @explain_failures
    def test_3b_authorization_by_principal(self):
        """An ALLOW policy naming the demo client's principal on the echo pods: the client (over
        mutual TLS, with its identity) is answered; the legacy client (plaintext, no identity) is
        refused and counted as denied; deleting the policy restores it."""
        self.wait_demo_enrolled()
        st, client, legacy, echos = self.pods()
        nodes = [node_of(st, n) for n in sorted({p["node"] for p in echos})]
        before = sum(connections(n, "inbound", "denied") for n in nodes)
        path = self.apply_policy(ALLOW_POLICY, "allow-client")
        wait_for("plaintext requests refused once the policy reaches the agents",
                 lambda: all(s.startswith("error") for s in self.statuses(legacy)),
                 timeout=20, interval=0.5)
        wait_for("inbound denied counters grow",
                 lambda: sum(connections(n, "inbound", "denied") for n in nodes) > before)
        self.assert_echo_answers(http_requests(client, 4), client["ip"], 4, echos)
        lab("delete", "-f", path)
        wait_for("plaintext answered again once the policy is gone",
                 lambda: all(s == "200" for s in self.statuses(legacy)), timeout=20,
                 interval=0.5)

    @explain_failures
    def test_3c_peer_authentication_strict_and_permissive(self):
        """PeerAuthentication STRICT in demo refuses the legacy (plaintext) client and keeps the
        mesh client; PERMISSIVE on port 8080 alone lets plaintext in on that port only."""
        self.wait_demo_enrolled()
        _, client, legacy, echos = self.pods()
        self.apply_policy(STRICT_POLICY, "strict")
        wait_for("plaintext refused under STRICT",
                 lambda: all(s.startswith("error") for s in self.statuses(legacy)),
                 timeout=20, interval=0.5)
        self.assert_echo_answers(http_requests(client, 2), client["ip"], 2, echos)
        self.apply_policy(PORT_PERMISSIVE_POLICY, "strict-but-8080")
        wait_for("plaintext answered on the PERMISSIVE port",
                 lambda: all(s == "200" for s in self.statuses(legacy)), timeout=20,
                 interval=0.5)
        tcp = exec_in(legacy, "python3", "-c", TCP_ONCE_SCRIPT, check=False).stdout.strip()
        self.assertTrue(tcp.startswith("ERROR"), f"port 9000 is still STRICT: {tcp!r}")

    @explain_failures
    def test_3d_deny_all_and_deny_by_port(self):
        """The users' deny-all (an empty spec) refuses even the mesh client; a DENY on port 9000
        refuses the TCP echo while HTTP on 8080 is answered."""
        self.wait_demo_enrolled()
        _, client, _, echos = self.pods()
        path = self.apply_policy(DENY_ALL_POLICY, "deny-all")
        wait_for("the mesh client refused under deny-all",
                 lambda: all(s.startswith("error") for s in self.statuses(client)),
                 timeout=20, interval=0.5)
        lab("delete", "-f", path)
        wait_for("the mesh client answered once deny-all is gone",
                 lambda: all(s == "200" for s in self.statuses(client)), timeout=20,
                 interval=0.5)
        self.apply_policy(DENY_PORT_POLICY, "deny-9000")
        wait_for("the TCP echo refused by the DENY on 9000",
                 lambda: exec_in(client, "python3", "-c", TCP_ONCE_SCRIPT,
                                 check=False).stdout.startswith("ERROR"),
                 timeout=20, interval=0.5)
        self.assert_echo_answers(http_requests(client, 2), client["ip"], 2, echos)

    @explain_failures
    def test_3e_policy_closes_open_connections(self):
        """A connection open when a policy that denies it arrives is closed within 2 s."""
        self.wait_demo_enrolled()
        _, client, _, _ = self.pods()
        conn = LongConnection(client)
        try:
            self.assertEqual(conn.read_line("connection"), f"CONNECTED {client['ip']}")
            self.assertEqual(conn.echo("before the policy"), "ECHO before the policy")
            applied = time.monotonic()
            self.apply_policy(DENY_ALL_POLICY, "deny-all-open")
            closed = None
            while time.monotonic() - applied < 10:
                line = conn.echo("ping", timeout=5, check=False)
                if line != "ECHO ping":
                    closed = time.monotonic()
                    break
                time.sleep(0.1)
            self.assertIsNotNone(closed, "the open connection survived the deny-all policy")
            # The policy takes a moment to reach the agent (file watch, debounce, push).
            log(f"open connection closed {closed - applied:.2f} s after the policy was applied")
            self.assertLess(closed - applied, 2.0 + 1.0,
                            "not closed within 2 s of the policy reaching the agents")
        finally:
            conn.close()

    @explain_failures
    def test_4_enroll_and_release_by_label(self):
        """Labelling namespace legacy ambient enrolls its running client, removing the label
        releases it; the pod's process stays the same throughout."""
        self.wait_demo_enrolled()
        st, _, legacy, echos = self.pods()
        rec = state_file()["pods"][f"legacy/{legacy['name']}"]
        pid = rec["pid"]

        def same_process():
            with open(os.path.join(rec["cgroup"], "cgroup.procs")) as f:
                self.assertIn(pid, [int(x) for x in f.read().split()],
                              f"pid {pid} is no longer in {rec['cgroup']}")
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                self.assertEqual(f.read().split(b"\0")[0], b"sleep")

        same_process()
        lnode = node_of(st, legacy["node"])
        try:
            lab("label", "namespace", "legacy", "istio.io/dataplane-mode=ambient")
            wait_for("legacy client captured", lambda: captured(legacy))
            wait_for("legacy client enrolled", lambda: enrolled_in_status(status(), legacy))
            self.assertIs(debug_pods(lnode)[f"legacy/{legacy['name']}"]["enrolled"], True)
            before = connections(lnode, "outbound")
            answers = http_requests(legacy, 2)
            self.assert_echo_answers(answers, legacy["ip"], 2, echos)
            wait_for(f"{lnode['name']} outbound relayed counter +2 (from {before})",
                     lambda: connections(lnode, "outbound") >= before + 2)
            same_process()
        finally:
            lab("label", "namespace", "legacy", "istio.io/dataplane-mode-")
        wait_for("legacy client released (capture removed)", lambda: not captured(legacy))
        wait_for("legacy client not enrolled",
                 lambda: enrolled_in_status(status(), legacy) is False)
        self.assertIs(debug_pods(lnode)[f"legacy/{legacy['name']}"]["enrolled"], False)
        before = connections(lnode, "outbound")
        answers = http_requests(legacy, 2)
        self.assert_echo_answers(answers, legacy["ip"], 2, echos)
        time.sleep(1)  # a relayed connection is counted when it ends; give a stray one time
        self.assertEqual(connections(lnode, "outbound"), before,
                         "the released pod's connections still go through its agent")
        same_process()

    @explain_failures
    def test_5_agent_restart(self):
        """After restarting the demo client's node agent, its pods are found again from the CNI
        records and enrolled, and traffic flows."""
        self.wait_demo_enrolled()
        st, client, _, _ = self.pods()
        node = node_of(st, client["node"])
        component = f"agent-{node['name']}"
        on_node = [p for p in st["pods"] if p["node"] == node["name"]]
        enrolled_before = {p["uid"] for p in on_node if p["enrolled"]}
        self.assertIn(client["uid"], enrolled_before)
        old_pid = node["agent"]["pid"]

        p = lab("restart", component, timeout=90)
        log(p.stdout.strip())
        st2 = status()
        n2 = node_of(st2, node["name"])
        self.assertTrue(n2["agent"]["running"] and n2["agent"]["ready"], n2)
        self.assertNotEqual(n2["agent"]["pid"], old_pid, "restart kept the old agent")
        self.__class__.lab_pids.add(n2["agent"]["pid"])
        with open(f"/proc/{n2['agent']['pid']}/cmdline", "rb") as f:
            self.assertIn(b"ambit-agent", f.read())
        with open(f"/run/ambit-lab/logs/{component}.log") as f:
            self.assertIn(f"--- scripts/lab restart {component}", f.read(),
                          "restart should append to the agent's log")

        def all_back():
            now = {p["uid"]: p for p in status()["pods"] if p["node"] == node["name"]}
            return all(now[u]["enrolled"] for u in enrolled_before)
        wait_for(f"pods enrolled before the restart of {component} enrolled again", all_back)
        seen = debug_pods(n2)
        for p in on_node:
            key = f"{p['namespace']}/{p['name']}"
            self.assertIn(key, seen, f"{component} did not find {key} again after the restart")
            self.assertEqual(seen[key]["uid"], p["uid"])
            self.assertIs(seen[key]["enrolled"], p["uid"] in enrolled_before, seen[key])
        self.assertTrue(captured(client, st2))
        answers = http_requests(client, 4)
        self.assert_echo_answers(answers, client["ip"], 4)
        self.assertEqual(metrics(n2).get("ambit_agent_enrolled_pods"), len(enrolled_before))

    @explain_failures
    def test_5b_agent_killed_fails_closed_and_restart_resumes(self):
        """With a node's agent killed (SIGKILL), its enrolled pods' connections fail instead of
        bypassing the mesh, both ways; the restarted agent resumes from the capture it left (in
        eBPF mode it adopts the pinned programs and maps, counters included)."""
        self.wait_demo_enrolled()
        st, client, legacy, echos = self.pods()
        node = node_of(st, client["node"])
        component = f"agent-{node['name']}"
        local_echo = next(e for e in echos if e["node"] == node["name"])
        counter = 'ambit_capture_decisions_total{hook="connect",reason="redirected"}'
        before = metrics(node).get(counter, 0) if ARGS.redirect == "ebpf" else 0
        pid = node["agent"]["pid"]
        os.kill(pid, 9)
        wait_for(f"{component} (pid {pid}) gone", lambda: not process_running(pid))
        try:
            out = exec_in(client, "python3", "-c", CONNECT_SCRIPT, "echo.demo", "80",
                          check=False).stdout
            self.assertTrue(out.startswith("FAIL"),
                            f"outbound from {client['name']} with its agent dead: {out!r}")
            out = exec_in(legacy, "python3", "-c", CONNECT_SCRIPT, local_echo["ip"], "8080",
                          check=False).stdout
            self.assertTrue(out.startswith("FAIL"),
                            f"inbound to {local_echo['name']} with its agent dead: {out!r}")
        finally:
            log(lab("restart", component, timeout=90).stdout.strip())
        n2 = node_of(status(), node["name"])
        self.__class__.lab_pids.add(n2["agent"]["pid"])
        wait_for("the demo pods enrolled again", lambda: all(
            p["enrolled"] for p in status()["pods"] if p["namespace"] == "demo"))
        self.assert_echo_answers(http_requests(client, 2), client["ip"], 2)
        out = exec_in(legacy, "python3", "-c", CONNECT_SCRIPT, local_echo["ip"], "8080").stdout
        self.assertTrue(out.startswith("OK"), f"inbound after the restart: {out!r}")
        if ARGS.redirect == "ebpf":
            capture = json.loads(node_get(n2, "/debug/capture"))
            self.assertIs(capture["bpf"]["adopted"], True, capture)
            self.assertGreater(metrics(n2).get(counter, 0), before,
                               "the pinned counters should survive the restart and grow")

    @explain_failures
    def test_6_control_plane_restart_keeps_traffic(self):
        """A TCP connection through the agents survives a control plane restart, and new requests
        succeed during and after it."""
        self.wait_demo_enrolled()
        st, client, _, echos = self.pods()
        conn = subprocess.Popen(
            lab_argv("exec", f"demo/{client['name']}", "--", "python3", "-u", "-c",
                     LONG_CONN_SCRIPT),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            bufsize=1)
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(x.rstrip("\n")) for x in conn.stdout],
                         daemon=True).start()

        def read_line(what, timeout=10):
            try:
                return lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"long-lived connection: no {what} within {timeout} s "
                                     f"(running: {conn.poll() is None})")

        def echo(text):
            conn.stdin.write(text + "\n")
            conn.stdin.flush()
            self.assertEqual(read_line(f"echo of {text!r}"), f"ECHO {text}")

        try:
            self.assertEqual(read_line("connection"), f"CONNECTED {client['ip']}")
            echo("before the control plane restart")

            # Requests keep going while the control plane restarts.
            results, stop = [], threading.Event()

            def load():
                while not stop.is_set():
                    try:
                        results.extend(http_requests(client, 1))
                    except AssertionError as e:
                        results.append({"STATUS": f"exec failed: {e}"})
                    time.sleep(0.1)
            loader = threading.Thread(target=load, daemon=True)
            loader.start()
            try:
                restarted = time.monotonic()
                p = lab("restart", "control", timeout=90)
                log(p.stdout.strip())
                time.sleep(1)
            finally:
                stop.set()
                loader.join(30)
            self.assertTrue(results, "no request was sent during the restart")
            self.assert_echo_answers(results, client["ip"], len(results), echos)
            log(f"{len(results)} requests during the control plane restart, all answered")
            self.__class__.lab_pids.add(state_file()["control"]["pid"])

            echo("after the control plane restart")
            self.assert_echo_answers(http_requests(client, 4), client["ip"], 4, echos)
            echo("still the same connection")
            conn.stdin.close()
            self.assertEqual(read_line("EOF after the half-close"), "EOF True")
            self.assertEqual(conn.wait(10), 0, conn.stderr.read())
        finally:
            if conn.poll() is None:
                conn.kill()
                conn.wait(10)
            for f in (conn.stdin, conn.stdout, conn.stderr):
                try:
                    f.close()
                except (OSError, ValueError):
                    pass

        # The agents come back to the new control plane within gRPC's reconnect backoff (at most
        # 1 s): their streams wait for the channel rather than failing at once while it is down.
        for n in st["nodes"]:
            wait_for(f"{n['name']} agent connected to the restarted control plane",
                     lambda: metrics(n).get("ambit_agent_xds_connected") == 1.0, timeout=10,
                     interval=0.5)
        log(f"agents reconnected {time.monotonic() - restarted:.1f} s after the restart began")
        self.wait_demo_enrolled()


    @explain_failures
    def test_7_control_plane_down_keeps_traffic(self):
        """With the control plane gone, the agents keep their config and certificates: new
        connections between mesh pods are still carried, over mutual TLS."""
        self.wait_demo_enrolled()
        st, client, _, echos = self.pods()
        pid = state_file()["control"]["pid"]
        os.kill(pid, 9)
        try:
            wait_for("the control plane gone", lambda: not os.path.exists(f"/proc/{pid}"),
                     timeout=10)
            for n in st["nodes"]:
                wait_for(f"{n['name']} sees the control plane gone",
                         lambda: metrics(n).get("ambit_agent_xds_connected") == 0.0, timeout=10,
                         interval=0.5)
            self.assert_echo_answers(http_requests(client, 4), client["ip"], 4, echos)
        finally:
            lab("restart", "control", timeout=90)
            self.__class__.lab_pids.add(state_file()["control"]["pid"])
        self.assert_echo_answers(http_requests(client, 2), client["ip"], 2, echos)

    @explain_failures
    def test_8_certificates_rotate_under_traffic(self):
        """The agents run with 120 s certificates (renewed at half-life, about every 30 s);
        steady traffic loses nothing while the client's certificate is replaced."""
        self.wait_demo_enrolled()
        st, client, _, echos = self.pods()
        cnode = node_of(st, client["node"])
        identity = "spiffe://cluster.local/ns/demo/sa/client"

        def serial():
            certs = json.loads(node_get(cnode, "/debug/certificates"))["certificates"]
            return next((c["serial"] for c in certs if c["identity"] == identity), None)

        first = serial()
        self.assertIsNotNone(first, "the client's agent holds no certificate for it")
        answers = []
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            answers.extend(http_requests(client, 2))
            if serial() != first:
                break
            time.sleep(0.2)
        self.assertNotEqual(serial(), first, "the certificate was not renewed within 45 s")
        answers.extend(http_requests(client, 4))  # with the new certificate
        self.assert_echo_answers(answers, client["ip"], len(answers), echos)
        log(f"certificate renewed under {len(answers)} requests, none failed")

    @explain_failures
    def test_9_drain_on_sigterm(self):
        """SIGTERM to the client's agent: an open tunnelled connection keeps working during the
        drain; the agent exits once it ends; a restarted agent carries traffic again."""
        self.wait_demo_enrolled()
        st, client, _, echos = self.pods()
        component = f"agent-{client['node']}"
        pid = state_file()["nodes"][[n["name"] for n in st["nodes"]].index(client["node"])][
            "agent_pid"]
        conn = LongConnection(client)
        try:
            self.assertEqual(conn.read_line("connection"), f"CONNECTED {client['ip']}")
            self.assertEqual(conn.echo("before SIGTERM"), "ECHO before SIGTERM")
            os.kill(pid, 15)
            time.sleep(0.5)
            self.assertTrue(os.path.exists(f"/proc/{pid}"), "the agent exited without draining")
            self.assertEqual(conn.echo("while draining"), "ECHO while draining")
            conn.proc.stdin.close()
            self.assertEqual(conn.read_line("EOF after the half-close"), "EOF True")
            wait_for("the agent exits once its connections are done",
                     lambda: not process_running(pid), timeout=8)
        finally:
            conn.close()
            lab("restart", component, timeout=90)
            self.__class__.lab_pids.add(
                state_file()["nodes"][[n["name"] for n in st["nodes"]].index(client["node"])][
                    "agent_pid"])
        logs = lab("logs", component, "--tail", "400").stdout
        self.assertIn("draining for up to 5 s", logs)
        self.assertIn("drained; exiting", logs)
        self.wait_demo_enrolled()
        self.assert_echo_answers(http_requests(client, 2), client["ip"], 2, echos)


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build-dir", required=True, help="the CMake build directory")
    p.add_argument("--redirect", choices=["ebpf", "nftables"], default="ebpf",
                   help="the agents' capture mode (default ebpf)")
    p.add_argument("--repo", default=os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__))))), help="the Ambit source tree")
    ARGS, rest = p.parse_known_args()
    ARGS.build_dir = os.path.abspath(ARGS.build_dir)
    ARGS.repo = os.path.abspath(ARGS.repo)
    labtest.configure(ARGS.repo)
    if os.geteuid() != 0:
        print("lab_system_test: skipped: needs root: the lab creates network namespaces, veths "
              "and cgroups (CI runs ctest as root; locally: sudo ctest ... -L system)")
        return SKIPPED
    for path in ("control/ambit-control", "agent/ambit-agent", "agent/cni/ambit-cni"):
        full = os.path.join(ARGS.build_dir, path)
        if not os.access(full, os.X_OK):
            print(f"lab_system_test: {full} is not built (cmake --build {ARGS.build_dir} "
                  f"--target {os.path.basename(path)})", file=sys.stderr)
            return 1
    prog = unittest.main(argv=[sys.argv[0]] + rest, exit=False, verbosity=2)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
