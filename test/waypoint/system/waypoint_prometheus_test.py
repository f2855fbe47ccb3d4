#!/usr/bin/python3
"""System test of the lab's Prometheus (`scripts/lab up --prometheus`) on a two-node lab with
samples/waypoint: Debian's prometheus, run by the lab in its fabric namespace, scrapes both node
agents and the waypoint pod; its count of the waypoint's requests matches the waypoint's own;
`scripts/lab query` prints PromQL answers and refuses bad ones; the targets follow the waypoint
pod when its Gateway is deleted and applied again; `down` stops Prometheus, and a lab without
`--prometheus` has none.

Needs root and the prometheus binary (scripts/bootstrap installs it). Every wait is bounded and
every command has a timeout.

  waypoint_prometheus_test.py --build-dir build/release [--repo .] [unittest options]
"""

import json
import os
import re
import shutil
import sys
import time
import traceback
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "agent", "system"))
from labtest import lab, log, wait_for  # noqa: E402
import labtest  # noqa: E402
import waypoint_system_test as wst  # noqa: E402

ARGS = None
SCRAPE_WAIT = 30  # seconds; the lab's Prometheus scrapes every 2 s
WAYPOINT_REQUESTS = 'sum(istio_requests_total{reporter="waypoint"})'
SAMPLE = re.compile(r'^istio_requests_total\{([^}]*)\}\s+([0-9.eE+-]+)\s*$')
LINE = re.compile(r'^\{(.*)\} (\S+)$')


def query(promql):
    """The result vector of an instant query, through `scripts/lab query -o json`."""
    data = json.loads(lab("query", "-o", "json", promql, timeout=30).stdout)
    assert data["resultType"] == "vector", data
    return data["result"]


def scalar(promql):
    """The value of a one-series answer, or None when the answer is empty."""
    r = query(promql)
    return float(r[0]["value"][1]) if r else None


def up_targets():
    """{(job, identifying label): value} of every `up` series of the agents and waypoints."""
    out = {}
    for s in query('up{job=~"ambit-agent|ambit-waypoint"}'):
        m = s["metric"]
        key = m.get("node") if m["job"] == "ambit-agent" else \
            f"{m.get('namespace')}/{m.get('gateway')}/{m.get('pod')}"
        out[(m["job"], key)] = float(s["value"][1])
    return out


def waypoint_own_count():
    """What the waypoint itself reports on :15020/stats/prometheus, summed like the query."""
    total = 0.0
    for line in wst.waypoint_metrics_text().splitlines():
        m = SAMPLE.match(line)
        if m and 'reporter="waypoint"' in m.group(1):
            total += float(m.group(2))
    return total


def lab_prometheus_pids():
    """Processes running with the lab's Prometheus config, wherever they are."""
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().decode(errors="replace")
            with open(f"/proc/{pid}/stat") as f:
                zombie = f.read().rsplit(")", 1)[1].split()[0] == "Z"
        except (OSError, IndexError):
            continue
        if "--config.file=/run/ambit-lab/prometheus/" in cmd and not zombie:
            pids.append(int(pid))
    return pids


def log_tails():
    for c in ("prometheus", "control", "agent-node1", "agent-node2"):
        p = lab("logs", c, "--tail", "30", check=False, timeout=20)
        print(f"\n----- scripts/lab logs {c} --tail 30 -----\n{p.stdout}{p.stderr}",
              file=sys.stderr, flush=True)
    try:
        wst.log_tails()
    except (AssertionError, StopIteration, OSError):
        pass  # no waypoint at this point


class WaypointPrometheusTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        start = time.monotonic()
        lab("down", timeout=120)
        try:
            lab("up", "--nodes", "2", "--prometheus", "--build-dir", ARGS.build_dir,
                timeout=180)
            lab("apply", "-f", os.path.join(ARGS.repo, "samples", "waypoint"), timeout=180)
            wait_for("requests through the waypoint", lambda: all(
                r["status"] == 200 for r in wst.requests(3)) and "my-service" in wst.waypoint_log())
        except BaseException:
            traceback.print_exc()
            log_tails()
            lab("down", timeout=120, check=False)
            raise
        log(f"lab up with Prometheus and samples/waypoint in {time.monotonic() - start:.1f} s")

    @classmethod
    def tearDownClass(cls):
        lab("down", timeout=120)

    def run(self, result=None):
        ok_before = result.wasSuccessful() if result else True
        outcome = super().run(result)
        if result and ok_before and not result.wasSuccessful():
            log_tails()
        return outcome

    def test_10_scrapes_agents_and_waypoint(self):
        rs = wst.requests(20)
        self.assertEqual([r["status"] for r in rs], [200] * 20)
        own = waypoint_own_count()
        self.assertGreaterEqual(own, 20, "the waypoint counted the requests itself")
        # Prometheus catches up with the waypoint's own counter at its next scrape.
        seen = wait_for(f"{WAYPOINT_REQUESTS} == {own:g} in Prometheus",
                        lambda: scalar(WAYPOINT_REQUESTS) == own and own, timeout=SCRAPE_WAIT)
        self.assertGreaterEqual(seen, 20)

        pod = wst.waypoint_pod()["name"]
        want = {("ambit-agent", "node1"): 1.0, ("ambit-agent", "node2"): 1.0,
                ("ambit-waypoint", f"default/waypoint/{pod}"): 1.0}
        last = {}

        def all_up():
            last.update(got=up_targets())
            return last["got"] == want
        wait_for("up == 1 for both agents and the waypoint", all_up, timeout=SCRAPE_WAIT)
        self.assertEqual(last["got"], want)
        # The agents' own series are there too, labelled with their node: each agent is
        # connected to the control plane.
        agents = query('ambit_agent_xds_connected{job="ambit-agent"}')
        self.assertEqual(sorted((s["metric"]["node"], s["value"][1]) for s in agents),
                         [("node1", "1"), ("node2", "1")])

    def test_20_query_command(self):
        wait_for("the waypoint's requests in Prometheus",
                 lambda: (scalar(WAYPOINT_REQUESTS) or 0) >= 3, timeout=SCRAPE_WAIT)
        p = lab("query", "--wait-scrape",
                'sum by (destination_version) (istio_requests_total{reporter="waypoint"})',
                timeout=60)
        lines = p.stdout.splitlines()
        self.assertTrue(lines, p.stdout)
        total = 0.0
        for line in lines:
            m = LINE.match(line)
            self.assertTrue(m, f"not '{{labels}} value': {line!r}")
            self.assertRegex(m.group(1), r'^destination_version="v[12]"$')
            total += float(m.group(2))
        self.assertEqual(total, scalar(WAYPOINT_REQUESTS))
        # The alias, and Prometheus's own verdict on a bad query.
        self.assertEqual(lab("promql", "count(up)", timeout=30).stdout.strip(), "{} 4")
        bad = lab("query", "sum(", check=False, timeout=30)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("Prometheus refused the query", bad.stderr)
        self.assertIn("parse error", bad.stderr)
        # status and logs know it.
        st = labtest.status()["prometheus"]
        self.assertEqual((st["running"], st["ready"], st["url"]),
                         (True, True, "http://10.200.0.1:9090"))
        self.assertIn("prometheus: running, ready", lab("status", timeout=30).stdout)
        self.assertIn("Server is ready to receive web requests",
                      lab("logs", "prometheus", timeout=30).stdout)

    def test_30_targets_follow_the_waypoint_pod(self):
        gateway = os.path.join(ARGS.repo, "samples", "waypoint", "10-waypoint.yaml")
        old = wst.waypoint_pod()["name"]
        lab("delete", "-f", gateway, timeout=60)
        wait_for("the deleted waypoint gone from Prometheus's up",
                 lambda: not query('up{job="ambit-waypoint"}'), timeout=SCRAPE_WAIT)
        lab("apply", "-f", gateway, timeout=120)
        new = wst.waypoint_pod()["name"]
        self.assertNotEqual(new, old)
        got = wait_for("the new waypoint pod scraped", lambda: [
            s["metric"]["pod"] for s in query('up{job="ambit-waypoint"} == 1')],
            timeout=SCRAPE_WAIT)
        self.assertEqual(got, [new])

    def test_40_down_stops_it_and_a_lab_without_it_has_none(self):
        self.assertTrue(lab_prometheus_pids(), "the lab's Prometheus runs before down")
        lab("down", timeout=120)
        wait_for("no process of the lab's Prometheus", lambda: not lab_prometheus_pids(),
                 timeout=10)
        lab("up", "--nodes", "1", "--no-agents", "--build-dir", ARGS.build_dir, timeout=120)
        try:
            p = lab("query", "up", check=False, timeout=30)
            self.assertEqual(p.returncode, 1)
            self.assertIn("without Prometheus", p.stderr)
            self.assertIsNone(labtest.status()["prometheus"])
            self.assertNotIn("prometheus:", lab("status", timeout=30).stdout)
            self.assertFalse(os.path.exists("/run/ambit-lab/prometheus"))
        finally:
            lab("down", timeout=120)


def main():
    def no_prometheus():
        if shutil.which("prometheus") or shutil.which("prometheus", path="/usr/sbin:/usr/bin"):
            return None
        return "no prometheus binary (Debian's prometheus package; scripts/bootstrap installs it)"

    def prepare(args):
        global ARGS
        ARGS = args
    return wst.run_lab_tests("waypoint_prometheus_test", __doc__, skip_reason=no_prometheus,
                             prepare=prepare)


if __name__ == "__main__":
    sys.exit(main())
