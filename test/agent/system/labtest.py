"""What the lab system tests share: running commands and scripts/lab with bounded time, polling
for a state, and reading the lab's status, state file and the agents' metrics.

Call configure(repo) once before using lab(); every wait is bounded and every command has a
timeout."""

import json
import os
import re
import subprocess
import sys
import time

WAIT = 20  # seconds, for anything the cluster should reach on its own
SKIPPED = 77  # exit status CTest counts as skipped (SKIP_RETURN_CODE)
LAB_RUN = "/run/ambit-lab"
REPO = None


def configure(repo):
    global REPO
    REPO = repo


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run(argv, timeout=60, check=True, input=None):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=input)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"{' '.join(argv)}: no answer within {timeout} s "
                             f"(stdout: {e.stdout!r}, stderr: {e.stderr!r})")
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed with exit {p.returncode}\n"
                             f"stdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p


def lab_argv(*args):
    return [os.path.join(REPO, "scripts", "lab")] + list(args)


def lab(*args, timeout=120, check=True, input=None):
    return run(lab_argv(*args), timeout=timeout, check=check, input=input)


def wait_for(what, pred, timeout=WAIT, interval=0.2):
    """Polls pred() until it returns a true value; fails naming `what` and pred's last value."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = pred()
        except AssertionError as e:
            last = f"({e})"
            last_ok = False
        else:
            last_ok = bool(last)
        if last_ok:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not reached within {timeout} s (last: {last!r})")
        time.sleep(interval)


def status():
    return json.loads(lab("status", "-o", "json", timeout=30).stdout)


def state_file():
    with open(os.path.join(LAB_RUN, "state.json")) as f:
        return json.load(f)


def find_pods(st, namespace, owner):
    pods = [p for p in st["pods"] if p["namespace"] == namespace and p["owner"] == owner]
    if not pods:
        raise AssertionError(f"no pod of {namespace}/{owner} in scripts/lab status")
    return sorted(pods, key=lambda p: p["name"])


def node_of(st, name):
    return next(n for n in st["nodes"] if n["name"] == name)


def node_get(node, path, timeout=3):
    p = run(["ip", "netns", "exec", node["netns"], "curl", "-s", "-m", str(timeout),
             f"http://{node['ip']}:15020{path}"], timeout=timeout + 10, check=False)
    if p.returncode != 0:
        raise AssertionError(f"{node['name']}: GET {path} failed (curl exit {p.returncode})")
    return p.stdout


METRIC = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+([0-9.eE+-]+|NaN)\s*$")


def metrics(node):
    out = {}
    for line in node_get(node, "/metrics").splitlines():
        m = METRIC.match(line)
        if m:
            out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


def cgroup2_root():
    with open("/proc/mounts") as f:
        mounts = [line.split()[1] for line in f if line.split()[2:3] == ["cgroup2"]]
    return "/sys/fs/cgroup" if "/sys/fs/cgroup" in mounts else mounts[0]


LAB_NAMES = re.compile(r"^ambit-(fabric|node|pod-)")
LAB_COMMANDS = ("ambit-agent", "ambit-control", "ambit-echo")


def add_lab_pids(pids):
    """Adds the pids of the lab's control plane, agents and pods (from its state file) to `pids`."""
    st = state_file()
    pids.add(st["control"]["pid"])
    pids.update(n["agent_pid"] for n in st["nodes"])
    pids.update(p["pid"] for p in st["pods"].values())
    pids.discard(None)


def lab_leftovers(lab_pids):
    """What `scripts/lab down` left behind: network namespaces, the cgroup tree, /etc/netns
    entries, the state directory, the eBPF capture's pins, and processes of the lab (by pid,
    command or cgroup)."""
    problems = []
    left = [n.split()[0] for n in run(["ip", "netns", "list"]).stdout.splitlines()
            if LAB_NAMES.match(n)]
    if left:
        problems.append(f"network namespaces left: {left}")
    cg = os.path.join(cgroup2_root(), "ambit-lab")
    if os.path.exists(cg):
        problems.append(f"{cg} left")
    if os.path.isdir("/etc/netns"):
        etc = [e for e in os.listdir("/etc/netns") if LAB_NAMES.match(e)]
        if etc:
            problems.append(f"/etc/netns entries left: {etc}")
    if os.path.exists(LAB_RUN):
        problems.append(f"{LAB_RUN} left")
    if os.path.exists("/sys/fs/bpf/ambit-lab"):
        problems.append("/sys/fs/bpf/ambit-lab (eBPF capture pins) left")
    # Without the pins and the lab's cgroups nothing of the capture stays attached: a link lives
    # on its pin, its cgroup or its netns.
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/cgroup") as f:
                cgroup = f.read()
        except OSError:
            continue
        ours = int(pid) in lab_pids or LAB_RUN in cmd or "/ambit-lab/" in cgroup
        if ours and any(x in cmd for x in LAB_COMMANDS + ("sleep",)):
            problems.append(f"lab process left: {pid} {cmd}")
    return problems
