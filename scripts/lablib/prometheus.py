"""The lab's Prometheus (`scripts/lab up --prometheus`): Debian's prometheus binary run as a lab
process in the fabric namespace, scraping every node agent, every waypoint pod and the control
plane. The agents and waypoints are found through file-based service discovery: the lab rewrites
the targets files whenever pods change, and Prometheus picks them up on its own."""
import json
import os
import shutil
import time
import urllib.parse

from . import procs
from .base import (AGENT_ADMIN_PORT, CONTROL_DEBUG_PORT, FABRIC_IP, FABRIC_NS, LOGS, RUN,
                   LabError, cgroup_dir, http_get, write_file)

PORT = 9090
ADDRESS = f"{FABRIC_IP}:{PORT}"  # inside ambit-fabric: a system Prometheus on :9090 never clashes
URL = f"http://{ADDRESS}"
DIR = os.path.join(RUN, "prometheus")
CONFIG = os.path.join(DIR, "prometheus.yml")
DATA = os.path.join(DIR, "data")
AGENT_TARGETS = os.path.join(DIR, "targets", "agents.json")
WAYPOINT_TARGETS = os.path.join(DIR, "targets", "waypoints.json")
LOG = os.path.join(LOGS, "prometheus.log")
SCRAPE_INTERVAL = "2s"  # short, so the demo and the tests see fresh samples within seconds
RETENTION = "1h"  # the data lives in /run (memory); a lab's life is short
WAYPOINT_OWNER = "gateway/"  # waypoint pods are owned by "gateway/<name>" (waypoints.owner)
WAYPOINT_METRICS_PORT = 15020


def binary():
    path = shutil.which("prometheus") or shutil.which("prometheus", path="/usr/sbin:/usr/bin")
    if not path:
        raise LabError("'prometheus' not found (needed by --prometheus); install Debian's "
                       "prometheus package with scripts/bootstrap")
    return path


def config_text():
    """Three jobs; agents and waypoints come from the targets files, the control plane is fixed.
    JSON is valid YAML, so no YAML writer is needed for a file Prometheus reads."""
    def job(name, path, files=None, static=None):
        j = {"job_name": name, "metrics_path": path}
        if files:
            j["file_sd_configs"] = [{"files": [files], "refresh_interval": "30s"}]
        if static:
            j["static_configs"] = static
        return j

    cfg = {"global": {"scrape_interval": SCRAPE_INTERVAL, "scrape_timeout": SCRAPE_INTERVAL,
                      "evaluation_interval": SCRAPE_INTERVAL},
           "scrape_configs": [
               job("ambit-agent", "/stats/prometheus", files=AGENT_TARGETS),
               job("ambit-waypoint", "/stats/prometheus", files=WAYPOINT_TARGETS),
               job("ambit-control", "/metrics",
                   static=[{"targets": [f"{FABRIC_IP}:{CONTROL_DEBUG_PORT}"]}])]}
    return json.dumps(cfg, indent=2) + "\n"


def agent_targets(state):
    if state.get("no_agents"):
        return []
    return [{"targets": [f"{n['ip']}:{AGENT_ADMIN_PORT}"], "labels": {"node": n["name"]}}
            for n in state["nodes"]]


def waypoint_targets(state):
    out = []
    for p in sorted(state["pods"].values(), key=lambda p: (p["namespace"], p["name"])):
        owner = str(p.get("owner") or "")
        if owner.startswith(WAYPOINT_OWNER):
            out.append({"targets": [f"{p['ip']}:{WAYPOINT_METRICS_PORT}"],
                        "labels": {"namespace": p["namespace"], "pod": p["name"],
                                   "gateway": owner[len(WAYPOINT_OWNER):],
                                   "node": p["node"]}})
    return out


def enabled(state):
    return bool(state.get("prometheus"))


def write_targets(state):
    """Rewrites the targets files from the state (atomically: Prometheus watches the directory
    and must never read half a file). Unchanged files are left alone. No-op without Prometheus."""
    if not enabled(state):
        return
    for path, groups in ((AGENT_TARGETS, agent_targets(state)),
                         (WAYPOINT_TARGETS, waypoint_targets(state))):
        text = json.dumps(groups, indent=2) + "\n"
        try:
            with open(path) as f:
                if f.read() == text:
                    continue
        except FileNotFoundError:
            pass
        write_file(path, text)


def start(state, env):
    """Writes the config and targets and starts Prometheus in the fabric namespace; returns the
    readiness check for cluster.wait_for."""
    exe = binary()
    os.makedirs(DATA, exist_ok=True)
    write_file(CONFIG, config_text())
    argv = [exe, f"--config.file={CONFIG}", f"--storage.tsdb.path={DATA}",
            f"--storage.tsdb.retention.time={RETENTION}", f"--web.listen-address={ADDRESS}",
            "--log.level=info"]
    rec = {"argv": argv, "log": LOG, "url": URL, "pid": None}
    state["prometheus"] = rec
    write_targets(state)
    cg = procs.make_cgroup("prometheus")
    rec["pid"] = procs.start(FABRIC_NS, argv, cg, LOG, env, cwd=DIR)
    return (FABRIC_NS, f"{URL}/-/ready", rec["pid"], LOG)


def restart_spec(state):
    """(netns, cgroup, argv, log, ready url, cwd) for 'scripts/lab restart prometheus'."""
    rec = state["prometheus"]
    return FABRIC_NS, cgroup_dir("prometheus"), rec["argv"], rec["log"], f"{URL}/-/ready", DIR


def status(state):
    """None without Prometheus, else whether it runs and is ready, and where."""
    if not enabled(state):
        return None
    rec = state["prometheus"]
    running = procs.alive(rec.get("pid"))
    ready = running and http_get(FABRIC_NS, f"{URL}/-/ready", 1)[0] == 200
    return {"running": running, "ready": bool(ready), "pid": rec.get("pid"), "url": URL,
            "data": DATA, "config": CONFIG}


def query(state, promql, at=None):
    """An instant query through the HTTP API; returns the API's `data` ({"resultType",
    "result"}). Raises LabError with Prometheus's own error text."""
    if not enabled(state):
        raise LabError("the lab runs without Prometheus (start it with 'scripts/lab up "
                       "--prometheus')")
    params = {"query": promql}
    if at is not None:
        params["time"] = str(at)
    code, body = http_get(FABRIC_NS, f"{URL}/api/v1/query?" + urllib.parse.urlencode(params), 10)
    if code is None:
        raise LabError(f"Prometheus at {URL} does not answer: {body} "
                       "(see scripts/lab logs prometheus)")
    try:
        answer = json.loads(body)
    except ValueError:
        raise LabError(f"Prometheus answered HTTP {code} with no JSON: {body[:200]}")
    if answer.get("status") != "success":
        raise LabError(f"Prometheus refused the query ({answer.get('errorType', code)}): "
                       f"{answer.get('error', body[:200])}")
    return answer["data"]


def format_labels(metric):
    return "{" + ", ".join(f'{k}="{escape(v)}"' for k, v in sorted(metric.items())) + "}"


def escape(v):
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def format_result(data):
    """Lines for a query result: `{labels} value` per series of a vector, `value` for a scalar
    or string, `{labels} value@time ...` for a range vector. Values are printed as Prometheus
    returned them (strings: "15.2", "NaN", "+Inf")."""
    kind, result = data.get("resultType"), data.get("result")
    if kind in ("scalar", "string"):
        return [str(result[1])]
    if kind == "vector":
        rows = sorted((format_labels(s["metric"]), s["value"][1]) for s in result)
        return [f"{labels} {value}" for labels, value in rows]
    if kind == "matrix":
        return [format_labels(s["metric"]) + " " + " ".join(f"{v}@{t}" for t, v in s["values"])
                for s in sorted(result, key=lambda s: format_labels(s["metric"]))]
    raise LabError(f"unknown result type {kind!r}")


def wait_scraped_after(state, since, timeout=30):
    """Waits until Prometheus scraped every agent and waypoint of the targets files after `since`
    (a Unix time), so that a query sees what happened before; returns whether it did. A target
    Prometheus has not discovered yet counts as not scraped."""
    wanted = {t for g in agent_targets(state) + waypoint_targets(state) for t in g["targets"]}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            r = query(state, 'timestamp(up{job=~"ambit-agent|ambit-waypoint"})')["result"]
        except LabError:
            r = []
        fresh = {s["metric"].get("instance") for s in r if float(s["value"][1]) > since}
        if wanted <= fresh:
            return True
        time.sleep(0.5)
    return False
