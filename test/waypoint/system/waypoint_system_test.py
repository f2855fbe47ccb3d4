#!/usr/bin/python3
"""System tests of ambit-waypoint on a two-node lab, with Istio's examples as users write them.

Brings up `scripts/lab up --nodes 2`, applies samples/waypoint (the `default` namespace in the
ambient mesh with its services bound to the waypoint `waypoint`, which the lab deploys as a pod
of ambit-waypoint; `my-service` with versions v1 and v2; a client) and then, one after the
other, applies samples/istio/0N-*.yaml and sends real HTTP/1.1 requests from the client pod
through its node agent, the waypoint and the endpoints' agents, checking where they went and
what came back: routing by header and URI, the 90/10 canary split, timeouts and retries against
an endpoint that fails the first attempts, fault injection, a subset no DestinationRule defines,
malformed requests, and Istio's request metrics read with Prometheus's own parser.

Needs root. Every wait is bounded and every command has a timeout.

  waypoint_system_test.py --build-dir build/release [--repo .] [unittest options]
"""

import argparse
import json
import os
import sys
import time
import traceback
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "agent", "system"))
from labtest import SKIPPED, lab, log, run, state_file, status, wait_for  # noqa: E402
import labtest  # noqa: E402

ARGS = None
LOAD = os.path.join(HERE, "http_load.py")
URL = "http://my-service/"

NO_SUBSET_ROUTE = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: my-service, namespace: default}
spec:
  hosts: [my-service]
  http:
  - route:
    - destination: {host: my-service, subset: v3}
"""

TIMEOUT_ROUTE = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: my-service, namespace: default}
spec:
  hosts: [my-service]
  http:
  - route:
    - destination: {host: my-service}
    timeout: 1s
    retries: {attempts: 0}
"""

FULL_FAULT_ROUTE = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: my-service, namespace: default}
spec:
  hosts: [my-service]
  http:
  - match:
    - headers: {x-fault: {exact: abort}}
    fault:
      abort: {httpStatus: 418, percentage: {value: 100}}
    route:
    - destination: {host: my-service}
  - match:
    - headers: {x-fault: {exact: delay}}
    fault:
      delay: {fixedDelay: 300ms, percentage: {value: 100}}
    route:
    - destination: {host: my-service}
  - route:
    - destination: {host: my-service}
"""


ENFORCED_RATE_LIMIT = """\
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: rate-limit, namespace: default}
spec:
  workloadSelector:
    labels: {app: my-service}
  configPatches:
  - applyTo: HTTP_FILTER
    match:
      context: SIDECAR_INBOUND
      listener:
        filterChain:
          filter: {name: envoy.filters.network.http_connection_manager}
    patch:
      operation: INSERT_BEFORE
      value:
        name: envoy.filters.http.local_ratelimit
        typed_config:
          "@type": type.googleapis.com/udpa.type.v1.TypedStruct
          type_url: type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
          value:
            stat_prefix: enforced_limiter
            token_bucket: {max_tokens: 4, tokens_per_fill: 4, fill_interval: 600s}
            filter_enabled:
              runtime_key: local_rate_limit_enabled
              default_value: {numerator: 100, denominator: HUNDRED}
            filter_enforced:
              runtime_key: local_rate_limit_enforced
              default_value: {numerator: 100, denominator: HUNDRED}
"""


MIRROR_ROUTE = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: my-service, namespace: default}
spec:
  hosts: [my-service]
  http:
  - route:
    - destination: {host: my-service, subset: v1}
    mirror: {host: my-service, subset: v2}
    mirrorPercentage: {value: 100}
"""


def example(n):
    d = os.path.join(ARGS.repo, "samples", "istio")
    return os.path.join(d, next(f for f in sorted(os.listdir(d)) if f.startswith(f"{n:02d}-")))


def apply_text(text, name):
    path = os.path.join("/tmp", f"ambit-waypoint-test-{name}.yaml")
    with open(path, "w") as f:
        f.write(text)
    lab("apply", "-f", path, timeout=60)


def delete_routes():
    """Removes every VirtualService and DestinationRule of `default` the tests applied."""
    for n in (1, 2, 3, 6, 7, 8, 9):
        lab("delete", "-f", example(n), timeout=60, check=False)


def requests(n, path="/", headers=(), concurrency=1, timeout=120):
    argv = ["exec", "default/client", "--", "python3", LOAD, URL.rstrip("/") + path, str(n),
            "--concurrency", str(concurrency)]
    for h in headers:
        argv += ["-H", h]
    out = lab(*argv, timeout=timeout).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def versions(results):
    return sorted({r.get("version") for r in results})


def waypoint_pod():
    return next(p for p in state_file()["pods"].values()
                if p["namespace"] == "default" and p.get("owner") == "gateway/waypoint")


def waypoint_log():
    with open(waypoint_pod()["log"], errors="replace") as f:
        return f.read()


def waypoint_config():
    """The waypoint's last config line ("config version N: ... DestinationRules")."""
    lines = [x for x in waypoint_log().splitlines() if " config version " in x]
    return lines[-1] if lines else ""


def waypoint_metrics_text():
    pod = waypoint_pod()
    return run(["ip", "netns", "exec", pod["netns"], "curl", "-s", "-m", "5",
                f"http://{pod['ip']}:15020/stats/prometheus"], timeout=15).stdout


def log_tails():
    for c in ["control", "agent-node1", "agent-node2", "default/client",
              "default/" + waypoint_pod()["name"]]:
        p = lab("logs", c, "--tail", "40", check=False, timeout=20)
        print(f"\n----- scripts/lab logs {c} --tail 40 -----\n{p.stdout}{p.stderr}",
              file=sys.stderr, flush=True)


class LabTestCase(unittest.TestCase):
    """What every waypoint lab test class shares: the lab goes down after the class, and the
    first failure prints the logs of the control plane, the agents, the client and the
    waypoint."""

    @classmethod
    def tearDownClass(cls):
        lab("down", timeout=120)

    def run(self, result=None):
        ok_before = result.wasSuccessful() if result else True
        outcome = super().run(result)
        if result and ok_before and not result.wasSuccessful():
            log_tails()
        return outcome


class WaypointSystemTest(LabTestCase):
    @classmethod
    def setUpClass(cls):
        start = time.monotonic()
        lab("down", timeout=120)
        try:
            lab("up", "--nodes", "2", "--build-dir", ARGS.build_dir, timeout=180)
            lab("apply", "-f", os.path.join(ARGS.repo, "samples", "waypoint"), timeout=180)
            wait_for("the client enrolled", lambda: all(
                p["enrolled"] for p in status()["pods"]
                if p["namespace"] == "default" and p["owner"] == "client"))
            # The agents know the waypoint once the service's Address carries it.
            wait_for("requests through the waypoint", lambda: all(
                r["status"] == 200 for r in requests(3)) and "my-service" in waypoint_log())
        except BaseException:
            traceback.print_exc()
            log_tails()
            lab("down", timeout=120, check=False)
            raise
        log(f"lab up with samples/waypoint in {time.monotonic() - start:.1f} s")

    def setUp(self):
        delete_routes()

    def eventually_routed(self, what, pred, n=6, **kw):
        """Config reaches the waypoint asynchronously: waits until `n` requests satisfy pred."""
        return wait_for(what, lambda: (lambda rs: rs if pred(rs) else None)(requests(n, **kw)))

    # ----------------------------------------------------------------------------- examples

    def test_00_default_route_spreads_over_every_endpoint(self):
        rs = requests(9)
        self.assertEqual({r["status"] for r in rs}, {200})
        self.assertEqual(versions(rs), ["v1", "v2"])
        self.assertEqual(len({r["pod"] for r in rs}), 3, "round robin over the three pods")
        self.assertIn("route=\"default\"", waypoint_log())

    def test_01_route_by_user_agent(self):
        lab("apply", "-f", example(2), "-f", example(1), timeout=60)
        self.eventually_routed("Mozilla to v2", lambda rs: versions(rs) == ["v2"],
                               headers=["User-Agent: Mozilla/5.0"])
        self.assertEqual(versions(requests(10, headers=["User-Agent: curl/8"])), ["v1"])
        self.assertEqual(versions(requests(10, headers=["User-Agent: Mozilla/5.0 (X11)"])),
                         ["v2"])

    def test_03_canary_90_10(self):
        lab("apply", "-f", example(2), "-f", example(3), timeout=60)
        self.eventually_routed("the canary split", lambda rs: "v2" in versions(rs), n=40)
        rs = requests(10000, concurrency=8, timeout=300)
        self.assertEqual({r["status"] for r in rs}, {200})
        share = sum(r["version"] == "v2" for r in rs) / len(rs)
        log(f"canary: {share:.2%} of {len(rs)} requests to v2")
        # 10,000 draws at 10%: the standard deviation is 0.3 points; 1 point is over 3 sigma.
        self.assertLess(abs(share - 0.10), 0.01)

    def test_04_ab_testing(self):
        lab("apply", "-f", example(2), "-f", example(4), timeout=60)
        self.eventually_routed("beta users to v2", lambda rs: versions(rs) == ["v2"],
                               headers=["x-user-type: beta"])
        self.assertEqual(versions(requests(10)), ["v1"])
        self.assertEqual(versions(requests(10, headers=["x-user-type: Beta"])), ["v1"])

    def test_05_request_routing_by_uri_and_header(self):
        lab("apply", "-f", example(2), "-f", example(5), timeout=60)
        self.eventually_routed("/api/v2 to v2", lambda rs: versions(rs) == ["v2"],
                               path="/api/v2/items")
        self.assertEqual(versions(requests(6, headers=["end-user: jason"])), ["v2"])
        self.assertEqual(versions(requests(6, path="/api/v1/items")), ["v1"])
        self.assertEqual(versions(requests(6, headers=["end-user: jasonx"])), ["v1"])
        rs = requests(1, path="/api/v2/items?q=1")
        self.assertEqual(rs[0]["path"], "/api/v2/items?q=1", "the path reaches the app as sent")

    def test_06_retries_until_an_endpoint_answers(self):
        lab("apply", "-f", example(6), timeout=60)
        self.eventually_routed("example 06 in force", lambda rs: "route=\"default/my-service"
                               in waypoint_log(), n=1)
        key = uuid.uuid4().hex[:12]
        # retryOn gateway-error, 3 attempts: two 503s are retried, the third answer is a 200.
        rs = requests(1, path=f"/flaky/2/{key}")
        self.assertEqual(rs[0]["status"], 200, rs)
        line = next(x for x in waypoint_log().splitlines() if f"/flaky/2/{key}" in x)
        self.assertIn("attempts=3", line)
        # Four 503s exhaust the three retries: the last 503 comes back, flagged URX.
        key = uuid.uuid4().hex[:12]
        rs = requests(1, path=f"/flaky/9/{key}")
        self.assertEqual(rs[0]["status"], 503, rs)
        line = next(x for x in waypoint_log().splitlines() if f"/flaky/9/{key}" in x)
        self.assertIn(" 503 URX ", line)
        self.assertIn("attempts=4", line)

    def test_06b_route_timeout(self):
        apply_text(TIMEOUT_ROUTE, "timeout")
        self.eventually_routed("the 1 s timeout", lambda rs: rs[0]["status"] == 504,
                               n=1, path="/delay/3000")
        rs = requests(1, path="/delay/3000")
        self.assertEqual(rs[0]["status"], 504)
        self.assertLess(rs[0]["ms"], 2500)
        self.assertEqual(requests(1, path="/delay/100")[0]["status"], 200)
        self.assertIn(" 504 UT ", waypoint_log())

    def test_07_outlier_detection_ejects_a_failing_endpoint(self):
        lab("apply", "-f", example(7), timeout=60)
        wait_for("the waypoint has example 07's DestinationRule",
                 lambda: "0 VirtualServices, 1 DestinationRules," in waypoint_config())
        # One connection (one waypoint worker, whose evidence decides): v2 answers 500 every time;
        # after its 5th consecutive 5xx it is ejected and the rest go to the v1 pods.
        rs = requests(60, path="/fail-if/v2/500")
        failures = [i for i, r in enumerate(rs) if r["status"] == 500]
        self.assertEqual(len(failures), 5, [r["status"] for r in rs])
        self.assertTrue(all(r["status"] == 200 and r["version"] == "v1"
                            for r in rs[failures[-1] + 1:]), rs[failures[-1] + 1:])
        self.assertIn("outlier detection: endpoint my-service-v2", waypoint_log())

    def test_08_fault_injection(self):
        apply_text(FULL_FAULT_ROUTE, "faults")
        self.eventually_routed("the abort", lambda rs: rs[0]["status"] == 418, n=1,
                               headers=["x-fault: abort"])
        rs = requests(2, headers=["x-fault: delay"])
        self.assertEqual({r["status"] for r in rs}, {200})
        self.assertTrue(all(r["ms"] >= 300 for r in rs), rs)
        self.assertIn(" 418 FI ", waypoint_log())
        # Example 08 as written: 10% delayed by 5 s, 5% aborted with 500.
        lab("apply", "-f", example(8), timeout=60)
        wait_for("example 08 in force",
                 lambda: any(r["status"] == 500 for r in requests(60, concurrency=10)),
                 timeout=60)
        rs = requests(200, concurrency=25, timeout=180)
        aborted = sum(r["status"] == 500 for r in rs) / len(rs)
        delayed = sum(r["ms"] >= 5000 for r in rs) / len(rs)
        log(f"example 08: {aborted:.1%} aborted, {delayed:.1%} delayed 5 s")
        self.assertTrue(0.005 <= aborted <= 0.14, aborted)
        self.assertTrue(0.02 <= delayed <= 0.22, delayed)

    def test_09_local_rate_limit(self):
        # Example 09 as written: 100 tokens a minute per endpoint, enabled for every request but
        # enforced for none (no filter_enforced), so Envoy counts and rejects nothing.
        lab("apply", "-f", example(9), timeout=60)
        wait_for("the waypoint has example 09",
                 lambda: "local rate limit default/rate-limit: 100 tokens" in waypoint_log())
        before = self.metric("envoy_http_local_rate_limiter_http_local_rate_limit_rate_limited")
        rs = requests(330, concurrency=3, timeout=180)
        self.assertEqual({r["status"] for r in rs}, {200})
        limited = self.metric("envoy_http_local_rate_limiter_http_local_rate_limit_rate_limited")
        enforced = self.metric("envoy_http_local_rate_limiter_http_local_rate_limit_enforced")
        # Three endpoints with 100 tokens each (fewer if earlier tests' requests took some).
        self.assertGreaterEqual(limited - before, 30)
        self.assertEqual(enforced, 0)
        # Enforced, with 4 tokens per endpoint: 12 requests pass, then 429 with flag RL.
        lab("delete", "-f", example(9), timeout=60)
        apply_text(ENFORCED_RATE_LIMIT, "rate-limit")
        wait_for("the enforcing limit", lambda: "rate-limit: 4 tokens" in waypoint_log())
        rs = requests(20)
        self.assertEqual([r["status"] for r in rs], [200] * 12 + [429] * 8)
        self.assertIn("local_rate_limited", rs[-1]["body"])
        self.assertIn(" 429 RL ", waypoint_log())
        lab("delete", "-f", example(9), timeout=60)

    def metric(self, name):
        from prometheus_client.parser import text_string_to_metric_families
        for family in text_string_to_metric_families(waypoint_metrics_text()):
            for s in family.samples:
                if s.name == name or s.name == name + "_total":
                    return s.value
        return 0

    def test_09b_mirror(self):
        lab("apply", "-f", example(2), timeout=60)
        apply_text(MIRROR_ROUTE, "mirror")
        self.eventually_routed("v1 only", lambda rs: versions(rs) == ["v1"], n=6)
        marker = uuid.uuid4().hex[:12]
        rs = requests(4, path=f"/mirrored/{marker}")
        self.assertEqual(versions(rs), ["v1"])
        v2 = next(p for p in state_file()["pods"].values() if p.get("owner") == "my-service-v2")

        def shadowed():
            with open(v2["log"], errors="replace") as f:
                return sum(f"my-service-shadow/mirrored/{marker}" in line for line in f)
        # Every request was copied to v2, with Envoy's "-shadow" host; its answers were dropped.
        wait_for("the mirrored copies at v2", lambda: shadowed() == 4)

    def test_10_subset_without_destination_rule(self):
        apply_text(NO_SUBSET_ROUTE, "no-subset")
        rs = self.eventually_routed("503 NR", lambda rs: rs[0]["status"] == 503, n=1)
        self.assertIn("subset v3", rs[0]["body"])
        self.assertIn(" 503 NR ", waypoint_log())

    def test_11_malformed_requests_are_refused(self):
        script = r"""
import socket
for raw in [b"POST / HTTP/1.1\r\nHost: my-service\r\nContent-Length: 3\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: my-service\r\nBad Name: x\r\n\r\n"]:
    s = socket.create_connection(("my-service", 80), timeout=10)
    s.sendall(raw)
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    print(data.split(b"\r\n")[0].decode(), "| closed")
"""
        out = lab("exec", "default/client", "--", "python3", "-c", script, timeout=60).stdout
        self.assertEqual(out.count("HTTP/1.1 400 Bad Request | closed"), 2, out)

    def test_13_tcp_and_sniffed_ports(self):
        script = r"""
import socket, sys
for port in (9000, 9001):
    s = socket.create_connection(("my-service", port), timeout=10)
    s.sendall(b"hello over %d\n" % port)
    print("echo", port, s.recv(100).decode().strip())
    s.close()
"""
        out = lab("exec", "default/client", "--", "python3", "-c", script, timeout=60).stdout
        self.assertIn("echo 9000 hello over 9000", out)
        self.assertIn("echo 9001 hello over 9001", out)
        log_text = waypoint_log()
        self.assertIn("TCP my-service.default.svc.cluster.local:9000 -> ", log_text)
        self.assertIn("TCP my-service.default.svc.cluster.local:9001 -> ", log_text)
        # Port 8081 says no protocol: sniffed as HTTP/1.1, so routes apply to it.
        lab("apply", "-f", example(2), "-f", example(4), timeout=60)
        self.eventually_routed("beta users to v2 on 8081", lambda rs: versions(rs) == ["v2"],
                               path=":8081/", headers=["x-user-type: beta"])

    def test_14_http2(self):
        # HTTP/2 with prior knowledge (nghttp's default for http://) on port 8081, which declares
        # no protocol: sniffed as HTTP/2, routed by example 04, sent on as HTTP/1.1.
        lab("apply", "-f", example(2), "-f", example(4), timeout=60)

        def versions_h2(*headers):
            argv = ["exec", "default/client", "--", "nghttp", "-m", "6"]
            for h in headers:
                argv += ["-H", h]
            out = lab(*argv, "http://my-service:8081/", timeout=60).stdout
            return sorted(set(line.split("=", 1)[1] for line in out.splitlines()
                              if line.startswith("version=")))
        wait_for("HTTP/2 beta users to v2", lambda: versions_h2("x-user-type: beta") == ["v2"])
        self.assertEqual(versions_h2(), ["v1"])
        self.assertIn('"GET / HTTP/2" 200', waypoint_log())
        # Six requests multiplexed on one connection (nghttp -m 6), each answered.
        out = lab("exec", "default/client", "--", "nghttp", "-n", "--stat", "-m", "6",
                  "http://my-service:8081/", timeout=60).stdout
        self.assertEqual(out.count(" 200 "), 6, out)

    def test_12_istio_request_metrics(self):
        from prometheus_client.parser import text_string_to_metric_families
        lab("apply", "-f", example(2), "-f", example(4), timeout=60)
        self.eventually_routed("beta users to v2", lambda rs: versions(rs) == ["v2"],
                               headers=["x-user-type: beta"])
        before = self.requests_total(destination_version="v2", response_code="200")
        requests(7, headers=["x-user-type: beta"])
        after = self.requests_total(destination_version="v2", response_code="200")
        self.assertEqual(after - before, 7)
        families = {f.name: f for f in text_string_to_metric_families(waypoint_metrics_text())}
        sample = next(s for s in families["istio_requests"].samples
                      if s.labels.get("destination_version") == "v2")
        for label, value in {"reporter": "waypoint",
                             "source_workload_namespace": "default",
                             "source_principal": "spiffe://cluster.local/ns/default/sa/default",
                             "destination_service": "my-service.default.svc.cluster.local",
                             "destination_service_name": "my-service",
                             "destination_app": "my-service",
                             "connection_security_policy": "mutual_tls",
                             "response_flags": "-"}.items():
            self.assertEqual(sample.labels.get(label), value, label)
        self.assertIn("istio_request_duration_milliseconds", families)

    def requests_total(self, **labels):
        from prometheus_client.parser import text_string_to_metric_families
        total = 0
        for family in text_string_to_metric_families(waypoint_metrics_text()):
            if family.name != "istio_requests":
                continue
            for s in family.samples:
                if s.name == "istio_requests_total" and all(
                        s.labels.get(k) == v for k, v in labels.items()):
                    total += s.value
        return total


def run_lab_tests(name, doc, skip_reason=None, prepare=None):
    """The main of a waypoint lab test: parses --build-dir and --repo (into this module's ARGS),
    skips (status 77) when not root or when skip_reason() names a reason, checks the binaries are
    built, calls prepare(ARGS) and runs the calling script's unittest cases."""
    global ARGS
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    p.add_argument("--build-dir", required=True, help="the CMake build directory")
    p.add_argument("--repo", default=os.path.dirname(os.path.dirname(os.path.dirname(HERE))),
                   help="the Ambit source tree")
    ARGS, rest = p.parse_known_args()
    ARGS.build_dir = os.path.abspath(ARGS.build_dir)
    ARGS.repo = os.path.abspath(ARGS.repo)
    labtest.configure(ARGS.repo)
    if os.geteuid() != 0:
        print(f"{name}: skipped: needs root: the lab creates network namespaces")
        return SKIPPED
    reason = skip_reason() if skip_reason else None
    if reason:
        print(f"{name}: skipped: {reason}")
        return SKIPPED
    for path in ("control/ambit-control", "agent/ambit-agent", "agent/cni/ambit-cni",
                 "waypoint/ambit-waypoint"):
        full = os.path.join(ARGS.build_dir, path)
        if not os.access(full, os.X_OK):
            print(f"{name}: {full} is not built", file=sys.stderr)
            return 1
    if prepare:
        prepare(ARGS)
    prog = unittest.main(module="__main__", argv=[sys.argv[0]] + rest, exit=False, verbosity=2)
    return 0 if prog.result.wasSuccessful() else 1


def main():
    return run_lab_tests("waypoint_system_test", __doc__)


if __name__ == "__main__":
    sys.exit(main())
