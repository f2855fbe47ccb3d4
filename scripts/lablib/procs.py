"""Processes of the lab: started inside a netns and a cgroup v2 directory, stopped by cgroup."""
import os
import signal
import subprocess
import time

from .base import LabError, cgroup_dir, tool, wait_until


def make_cgroup(*parts):
    path = cgroup_dir(*parts)
    os.makedirs(path, exist_ok=True)
    return path


def start(netns, argv, cgroup, log_path, env, cwd="/", host_mounts=False):
    """Starts argv in netns (through 'ip netns exec', which execs it, so the pid is the program's)
    inside cgroup, stdout and stderr appended to log_path. Returns the pid. With host_mounts the
    program enters only the network namespace (nsenter) and sees the host's /sys mounts, as a
    DaemonSet given /sys/fs/cgroup and /sys/fs/bpf does; 'ip netns exec' remounts /sys."""
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    procs_file = os.path.join(cgroup, "cgroup.procs")

    def enter_cgroup():
        with open(procs_file, "w") as f:
            f.write("0")

    with open(log_path, "ab") as logf:
        try:
            enter = [tool("nsenter"), f"--net=/run/netns/{netns}", "--"] if host_mounts \
                else [tool("ip"), "netns", "exec", netns]
            p = subprocess.Popen(enter + list(argv), env=env,
                                 cwd=cwd, stdin=subprocess.DEVNULL, stdout=logf,
                                 stderr=subprocess.STDOUT, start_new_session=True,
                                 preexec_fn=enter_cgroup)
        except OSError as e:
            raise LabError(f"cannot start {argv[0]}: {e}")
    # The process outlives this command; once the command exits, init reaps it.
    return p.pid


def alive(pid):
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def cgroup_pids(path):
    pids = []
    for root, dirs, _ in os.walk(path):
        try:
            with open(os.path.join(root, "cgroup.procs")) as f:
                pids += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return pids


def own_pids(path):
    """The processes directly in cgroup path (not in its children)."""
    try:
        with open(os.path.join(path, "cgroup.procs")) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def stop(cgroup, grace=5.0):
    """Stops one lab component: SIGTERM to every process directly in its cgroup (not in child
    cgroups: a node's pods live below the node's cgroup), SIGKILL after `grace` seconds. Only processes in the cgroup are signalled, so a recycled pid is never hit.
    Returns how it ended: "not running", "stopped" or "killed"."""
    def running():
        return [p for p in own_pids(cgroup) if alive(p)]

    targets = running()
    if not targets:
        return "not running"
    for p in targets:
        try:
            os.kill(p, signal.SIGTERM)
        except ProcessLookupError:
            pass
    if wait_until(lambda: not running(), grace):
        return "stopped"
    for p in running():
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if not wait_until(lambda: not running(), 5):
        raise LabError(f"processes in {cgroup} survive SIGKILL: {running()}")
    return "killed"


def stop_cgroup(path, grace=3.0):
    """SIGTERM to every process under path, then cgroup.kill after `grace` seconds, then removes
    the cgroup directories bottom-up. Safe when path does not exist."""
    if not os.path.isdir(path):
        return
    for pid in cgroup_pids(path):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    if not wait_until(lambda: not cgroup_pids(path), grace):
        kill_file = os.path.join(path, "cgroup.kill")
        if os.path.exists(kill_file):
            with open(kill_file, "w") as f:
                f.write("1")
        else:  # kernels before 5.14
            for pid in cgroup_pids(path):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if not wait_until(lambda: not cgroup_pids(path), 5):
            raise LabError(f"processes in {path} survive SIGKILL: {cgroup_pids(path)}")
    remove_cgroup_tree(path)


def remove_cgroup_tree(path):
    for root, dirs, _ in os.walk(path, topdown=False):
        for attempt in range(50):
            try:
                os.rmdir(root)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.05)  # the last exiting process may still be accounted for
        else:
            raise LabError(f"cannot remove cgroup {root}")
