"""Paths, errors, command helpers, the state file and its lock."""
import contextlib
import re
import fcntl
import json
import os
import shutil
import subprocess
import sys
import time

RUN = "/run/ambit-lab"
STATE_FILE = os.path.join(RUN, "state.json")
LOCK_FILE = "/run/ambit-lab.lock"
CONFIG_DIR = os.path.join(RUN, "config")
CONTROL_STATE = os.path.join(RUN, "control")
TOKENS = os.path.join(RUN, "tokens")
LOGS = os.path.join(RUN, "logs")
NODES_DIR = os.path.join(RUN, "nodes")
NETNS_ETC = "/etc/netns"
BPF_PINS = "/sys/fs/bpf/ambit-lab"  # the agents' eBPF capture pins, one directory per node
CAPTURE_LOCKS = "/run/ambit"  # where the agents keep their per-cgroup capture locks
CAPTURE_MODES = ("ebpf", "nftables")
PREFIX = "ambit-"
# The lab's own namespaces: ambit-fabric, ambit-node<N>, ambit-pod-<ns>.<name>. Other ambit-*
# namespaces (the agent's root-only tests make ambit-t-...) are not the lab's and are left alone.
LAB_NETNS = re.compile(r"^ambit-(fabric|node[0-9]+|pod-[a-z0-9-]+\..+)$")
FABRIC_NS = "ambit-fabric"
FABRIC_IP = "10.200.0.1"
CONTROL_GRPC = FABRIC_IP + ":15012"
CONTROL_DEBUG_PORT = 15014
AGENT_READY_PORT = 15021
AGENT_ADMIN_PORT = 15020
GATEWAY = "169.254.1.1"  # the pods' default gateway; the node answers ARP for it (proxy_arp)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Pod processes find the sample apps (test/apps/<app>/<executable>) on their PATH first.
APP_DIRS = sorted(os.path.join(REPO, "test", "apps", d) for d in os.listdir(
    os.path.join(REPO, "test", "apps")) if os.path.isdir(os.path.join(REPO, "test", "apps", d))) \
    if os.path.isdir(os.path.join(REPO, "test", "apps")) else []


class LabError(Exception):
    """An error shown to the user as 'lab: <message>' with exit status 1."""


def log(msg):
    print(msg, flush=True)


def warn(msg):
    print("lab: warning: " + msg, file=sys.stderr, flush=True)


def tool(name):
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")
    if not path:
        raise LabError(f"'{name}' not found; install it with scripts/bootstrap")
    return path


def run(args, input=None, check=True, timeout=30, quiet=False):
    """Runs a command, returns CompletedProcess; raises LabError with its stderr on failure."""
    try:
        p = subprocess.run(args, input=input, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise LabError(f"'{' '.join(args)}' did not finish within {timeout} s")
    if check and p.returncode != 0:
        out = (p.stderr or p.stdout).strip()
        raise LabError(f"'{' '.join(args)}' failed (exit {p.returncode}): {out}")
    return p


def ip(*args, ns=None, check=True):
    cmd = [tool("ip")] + (["-n", ns] if ns else []) + list(args)
    return run(cmd, check=check)


def ip_batch(lines, ns=None):
    """Runs many ip commands in one process (ip -batch)."""
    if not lines:
        return
    cmd = [tool("ip")] + (["-n", ns] if ns else []) + ["-batch", "-"]
    run(cmd, input="\n".join(lines) + "\n")


def in_netns(ns, args, **kw):
    return run([tool("ip"), "netns", "exec", ns] + list(args), **kw)


def sysctls(ns, settings):
    """Writes /proc/sys values inside a netns (one process for all of them)."""
    script = "; ".join(f"echo {v} > /proc/sys/{k.replace('.', '/')}" for k, v in settings)
    in_netns(ns, ["sh", "-ec", script])


def netns_list():
    p = run([tool("ip"), "netns", "list"], check=False)
    return [line.split()[0] for line in p.stdout.splitlines() if line.strip()]


def lab_netns_list():
    return [n for n in netns_list() if LAB_NETNS.match(n)]


def http_get(ns, url, timeout=2):
    """GET url from inside netns ns (the lab's addresses are reachable only there).
    Returns (status, body) or (None, error text)."""
    p = run([tool("ip"), "netns", "exec", ns, tool("curl"), "-s", "-m", str(timeout),
             "-w", "\n%{http_code}", url], check=False, timeout=timeout + 5)
    if p.returncode != 0:
        return None, (p.stderr.strip() or f"curl exit {p.returncode}")
    body, _, code = p.stdout.rpartition("\n")
    return int(code), body


def write_file(path, text, mode=0o644):
    """Writes atomically (temporary dot-file, then rename) so watchers never see half a file."""
    d = os.path.dirname(path)
    os.makedirs(d, exist_ok=True)
    tmp = os.path.join(d, "." + os.path.basename(path) + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def write_in_place(path, text):
    """Rewrites a file keeping its inode: /etc/netns/<ns>/hosts is bind-mounted into running
    processes' mount namespaces, which keep seeing the old inode after a rename."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a+") as f:
        f.seek(0)
        f.truncate()
        f.write(text)


def tail(path, lines=20):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return "(no log)\n"


def wait_until(pred, timeout, interval=0.1):
    """Polls pred() until it returns a true value or timeout seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def require_root():
    if os.geteuid() != 0:
        raise LabError("must run as root (it creates network namespaces, cgroups and veths)")


@contextlib.contextmanager
def locked():
    """Serialises lab commands that change the cluster."""
    fd = os.open(LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LabError("another lab command holds the lock for over 120 s")
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)


def load_state(required=True):
    try:
        with open(STATE_FILE) as f:
            return json.load(f)
    except FileNotFoundError:
        if required:
            raise LabError("the lab is not up (run 'scripts/lab up')")
        return None


def save_state(state):
    write_file(STATE_FILE, json.dumps(state, indent=1, sort_keys=True) + "\n", 0o600)


def cgroup2_root():
    """The cgroup v2 mount: /sys/fs/cgroup on a unified host, /sys/fs/cgroup/unified on a hybrid
    one."""
    mounts = []
    with open("/proc/mounts") as f:
        for line in f:
            parts = line.split()
            if len(parts) > 2 and parts[2] == "cgroup2":
                mounts.append(parts[1])
    if not mounts:
        raise LabError("no cgroup v2 hierarchy is mounted (need cgroup2 at /sys/fs/cgroup)")
    return "/sys/fs/cgroup" if "/sys/fs/cgroup" in mounts else mounts[0]


def cgroup_dir(*parts):
    return os.path.join(cgroup2_root(), "ambit-lab", *parts)
