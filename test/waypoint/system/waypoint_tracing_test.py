#!/usr/bin/python3
"""System test of the waypoint's tracing on a two-node lab: Istio's example 14 (IstioOperator
meshConfig with tracing at 100% to zipkin.istio-system:9411) and a Telemetry that overrides the
sampling, with spans read back from a Zipkin-compatible collector (test/apps/zipkin) that runs as
a pod in istio-system; Istio's example 15 and Telemetry resources that shape the waypoint's request
metrics and turn its access log off; and `ambitctl proxy-status` and `proxy-config` against the
lab.

Needs root. Every wait is bounded and every command has a timeout.

  waypoint_tracing_test.py --build-dir build/release [--repo .] [unittest options]
"""

import json
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "agent", "system"))
from labtest import lab, log, wait_for  # noqa: E402
import labtest  # noqa: E402
import waypoint_system_test as wst  # noqa: E402

ARGS = None


def collector_manifest():
    script = os.path.join(ARGS.repo, "test", "apps", "zipkin", "zipkin_collector.py")
    return f"""\
apiVersion: v1
kind: Namespace
metadata: {{name: istio-system}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: zipkin, namespace: istio-system}}
spec:
  replicas: 1
  selector:
    matchLabels: {{app: zipkin}}
  template:
    metadata:
      labels: {{app: zipkin}}
    spec:
      containers:
      - name: zipkin
        image: ambit/client
        command: ["python3", "{script}", "--listen", "0.0.0.0:9411"]
        ports:
        - {{name: http, containerPort: 9411}}
---
apiVersion: v1
kind: Service
metadata: {{name: zipkin, namespace: istio-system}}
spec:
  selector: {{app: zipkin}}
  ports:
  - {{name: http-zipkin, port: 9411, targetPort: 9411}}
"""


NO_SAMPLING = """\
apiVersion: telemetry.istio.io/v1alpha1
kind: Telemetry
metadata: {name: no-sampling, namespace: default}
spec:
  tracing:
  - randomSamplingPercentage: 0.0
"""


REQUEST_METRICS_TELEMETRY = """\
apiVersion: telemetry.istio.io/v1alpha1
kind: Telemetry
metadata: {name: request-metrics, namespace: default}
spec:
  metrics:
  - providers:
    - name: prometheus
    overrides:
    - match: {metric: REQUEST_COUNT}
      disabled: true
    - match: {metric: REQUEST_DURATION}
      tagOverrides:
        request_protocol: {operation: REMOVE}
"""

NO_ACCESS_LOG_TELEMETRY = """\
apiVersion: telemetry.istio.io/v1alpha1
kind: Telemetry
metadata: {name: no-access-log, namespace: default}
spec:
  targetRefs:
  - {kind: Service, group: "", name: my-service}
  accessLogging:
  - providers:
    - name: envoy
    disabled: true
"""

# Example 15's namespace Telemetry alone, to delete it and keep the root one.
EXAMPLE_15_NAMESPACE_METRICS = """\
apiVersion: telemetry.istio.io/v1alpha1
kind: Telemetry
metadata: {name: namespace-metrics, namespace: default}
spec: {}
"""


def my_service_samples(sample_name):
    """The waypoint's samples named `sample_name` for requests to my-service."""
    from prometheus_client.parser import text_string_to_metric_families
    return [s for f in text_string_to_metric_families(wst.waypoint_metrics_text())
            for s in f.samples
            if s.name == sample_name and s.labels.get("destination_service_name") == "my-service"]


def collector(path):
    """GET `path` of the collector, from the client pod (the collector is not in the mesh)."""
    out = lab("exec", "default/client", "--", "curl", "-s", "-m", "5",
              f"http://zipkin.istio-system:9411{path}", timeout=30).stdout
    return json.loads(out)


def spans_of(trace_id):
    return collector(f"/spans?traceId={trace_id}")


class WaypointTracingTest(wst.LabTestCase):
    @classmethod
    def setUpClass(cls):
        start = time.monotonic()
        lab("down", timeout=120)
        try:
            lab("up", "--nodes", "2", "--build-dir", ARGS.build_dir, timeout=180)
            lab("apply", "-f", os.path.join(ARGS.repo, "samples", "waypoint"), timeout=180)
            wst.apply_text(collector_manifest(), "zipkin")
            wait_for("requests through the waypoint", lambda: all(
                r["status"] == 200 for r in wst.requests(3)) and "my-service" in wst.waypoint_log())
            wait_for("the collector", lambda: lab(
                "exec", "default/client", "--", "curl", "-s", "-m", "5",
                "http://zipkin.istio-system:9411/health", check=False,
                timeout=30).stdout.strip() == "OK")
        except BaseException:
            traceback.print_exc()
            wst.log_tails()
            lab("down", timeout=120, check=False)
            raise
        log(f"lab up with samples/waypoint and a collector in {time.monotonic() - start:.1f} s")


    def test_14_tracing_from_the_mesh_config(self):
        # Without example 14 nothing is traced (Istio's default: tracing off).
        trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
        parent = "00f067aa0ba902b7"
        header = f"traceparent: 00-{trace_id}-{parent}-01"
        wst.requests(2, headers=[header])
        time.sleep(1.5)  # longer than the reporter's flush interval
        self.assertEqual(spans_of(trace_id), [])

        lab("apply", "-f", wst.example(14), timeout=60)
        wait_for("spans of a sampled request",
                 lambda: wst.requests(1, headers=[header]) and spans_of(trace_id), timeout=30)
        span = spans_of(trace_id)[-1]
        self.assertEqual(span["parentId"], parent, "the client's span is the parent")
        self.assertEqual(span["localEndpoint"]["serviceName"], "waypoint.default")
        self.assertEqual(span["name"], "my-service.default.svc.cluster.local:80/*")
        self.assertEqual(span["tags"]["http.status_code"], "200")
        self.assertEqual(span["tags"]["http.method"], "GET")

        # The endpoint sees the waypoint's span as its parent, in W3C and B3 headers alike.
        rs = wst.requests(1, headers=[header])
        echoed = rs[0]["echoed"]
        self.assertEqual(echoed.get("x-b3-traceid"), trace_id)
        self.assertEqual(echoed.get("x-b3-parentspanid"), parent)
        self.assertEqual(echoed.get("x-b3-sampled"), "1")
        self.assertTrue(echoed.get("traceparent", "").startswith(f"00-{trace_id}-"), echoed)

        # Sampling 100%: a request without a trace starts one, reported too.
        marker = "/traced-" + str(int(time.time() * 1000))
        wst.requests(1, path=marker)
        wait_for("a new trace's span", lambda: any(
            marker in s.get("tags", {}).get("http.url", "")
            for s in collector("/spans?serviceName=waypoint.default")), timeout=30)

        # A Telemetry in the namespace overrides the mesh's sampling: 0% samples nothing new.
        wst.apply_text(NO_SAMPLING, "no-sampling")
        quiet = "/quiet-" + str(int(time.time() * 1000))

        def unsampled():
            rs = wst.requests(1, path=quiet)
            return rs[0]["echoed"].get("x-b3-sampled") == "0"
        wait_for("Telemetry's 0% sampling in force", unsampled, timeout=30)
        time.sleep(1.5)
        self.assertFalse(any(quiet in s.get("tags", {}).get("http.url", "")
                             for s in collector("/spans?serviceName=waypoint.default")))
        # A decision the client made is still honoured.
        forced = "5bf92f3577b34da6a3ce929d0e0e4736"
        wst.requests(1, headers=[f"traceparent: 00-{forced}-{parent}-01"])
        wait_for("the client's sampled trace", lambda: spans_of(forced), timeout=10)
        lab("delete", "-f", "/tmp/ambit-waypoint-test-no-sampling.yaml", timeout=60)
        lab("delete", "-f", wst.example(14), timeout=60, check=False)

    def test_15_telemetry_metrics_and_access_log(self):
        def requests_total():
            return sum(s.value for s in my_service_samples("istio_requests_total"))

        def durations(with_protocol):
            return sum(s.value for s in
                       my_service_samples("istio_request_duration_milliseconds_count")
                       if ("request_protocol" in s.labels) == with_protocol)

        def lab_delete(path):
            lab("delete", "-f", path, timeout=60, check=False)
        self.addCleanup(lab_delete, wst.example(15))

        # Example 15 as written: the root's envoy access log is the waypoint's default, and the
        # namespace's UPSERT without a value changes nothing (the waypoint notes it).
        lab("apply", "-f", wst.example(15), timeout=60)
        wait_for("example 15's note in the waypoint log", lambda: "telemetry: Telemetry "
                 "default/namespace-metrics: tag override \"response_code\"" in wst.waypoint_log(),
                 timeout=30)
        before = requests_total()
        logged = "/telemetry-logged-" + str(int(time.time() * 1000))
        rs = wst.requests(3, path=logged)
        self.assertEqual([r["status"] for r in rs], [200] * 3)
        wait_for("three more requests counted", lambda: requests_total() - before == 3,
                 timeout=10)
        self.assertGreater(durations(with_protocol=True), 0)
        wait_for("the access lines of the requests",
                 lambda: wst.waypoint_log().count(f"GET {logged} ") == 3, timeout=10)

        # A Telemetry bound to my-service turns its access log off (over the root's "on"), then
        # one of the waypoint's namespace (in place of example 15's) disables REQUEST_COUNT and
        # removes request_protocol from REQUEST_DURATION. The first is in force once the second
        # is, as config reaches the waypoint in order.
        wst.apply_text(NO_ACCESS_LOG_TELEMETRY, "no-access-log")
        self.addCleanup(lab_delete, "/tmp/ambit-waypoint-test-no-access-log.yaml")
        namespace_metrics = "/tmp/ambit-waypoint-test-example-15-namespace-metrics.yaml"
        with open(namespace_metrics, "w") as f:
            f.write(EXAMPLE_15_NAMESPACE_METRICS)
        lab("delete", "-f", namespace_metrics, timeout=60)
        wst.apply_text(REQUEST_METRICS_TELEMETRY, "request-metrics")
        self.addCleanup(lab_delete, "/tmp/ambit-waypoint-test-request-metrics.yaml")
        wait_for("durations without request_protocol", lambda: wst.requests(1, path="/probe")
                 and durations(with_protocol=False) > 0, timeout=30)

        total = requests_total()
        with_protocol = durations(with_protocol=True)
        without = durations(with_protocol=False)
        log_size = len(wst.waypoint_log())
        quiet = "/telemetry-quiet-" + str(int(time.time() * 1000))
        rs = wst.requests(4, path=quiet)
        self.assertEqual([r["status"] for r in rs], [200] * 4, "requests still flow")
        wait_for("four more durations without request_protocol",
                 lambda: durations(with_protocol=False) - without == 4, timeout=10)
        self.assertEqual(requests_total(), total, "REQUEST_COUNT is disabled")
        self.assertEqual(durations(with_protocol=True), with_protocol)
        self.assertGreater(len(my_service_samples("istio_request_bytes_count")), 0)
        time.sleep(0.5)
        self.assertNotIn(quiet, wst.waypoint_log()[log_size:], "the access log is off")

    def test_20_ambitctl_proxy_status_and_config(self):
        ctl = os.path.join(ARGS.build_dir, "ctl", "ambitctl")

        def fabric(*argv):
            return labtest.run(["ip", "netns", "exec", "ambit-fabric", ctl] + list(argv),
                               timeout=30).stdout
        status = json.loads(fabric("proxy-status", "--control", "10.200.0.1:15014", "-o", "json"))
        text = json.dumps(status)
        for node in ("node1", "node2", "waypoint~default/waypoint"):
            self.assertIn(node, text)
        table = fabric("proxy-status", "--control", "10.200.0.1:15014")
        waypoint_row = next(x for x in table.splitlines() if x.startswith("waypoint~"))
        self.assertNotIn("STALE", waypoint_row)
        self.assertNotIn("NACKED", waypoint_row)
        self.assertGreaterEqual(waypoint_row.count("SYNCED"), 6, table)
        routes = fabric("proxy-config", "routes", "--admin", f"{wst.waypoint_pod()['ip']}:15000")
        self.assertIn("my-service.default.svc.cluster.local", routes)
        workloads = fabric("proxy-config", "workloads", "--admin", "10.200.0.11:15000")
        self.assertIn("my-service-v1", workloads)
        self.assertIn("HBONE", workloads)


def main():
    def prepare(args):
        global ARGS
        ARGS = args
    return wst.run_lab_tests("waypoint_tracing_test", __doc__, prepare=prepare)


if __name__ == "__main__":
    sys.exit(main())
