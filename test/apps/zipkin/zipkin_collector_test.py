#!/usr/bin/python3
"""Self-test of zipkin_collector.py: starts it on 127.0.0.1 (a free port), POSTs spans as the
waypoint's reporter does and reads them back through Zipkin's API and Ambit's additions.

  python3 test/apps/zipkin/zipkin_collector_test.py
"""
import gzip
import json
import os
import subprocess
import sys
import unittest
import urllib.error
import urllib.request

COLLECTOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "zipkin_collector.py")


def span(trace, span_id, service, name, parent=None, ts=1):
    out = {"traceId": trace, "id": span_id, "kind": "SERVER", "name": name, "timestamp": ts,
           "duration": 10, "localEndpoint": {"serviceName": service},
           "tags": {"http.status_code": "200"}}
    if parent:
        out["parentId"] = parent
    return out


class CollectorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.proc = subprocess.Popen(
            [sys.executable, COLLECTOR, "--listen", "127.0.0.1:0", "--max-spans", "5"],
            stdout=subprocess.PIPE, text=True)
        line = cls.proc.stdout.readline()
        cls.base = "http://" + line.rsplit(" ", 1)[1].strip()

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        cls.proc.wait(timeout=10)
        cls.proc.stdout.close()

    def request(self, method, path, body=None, headers=None):
        req = urllib.request.Request(self.base + path, data=body, method=method,
                                     headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def get_json(self, path):
        status, body = self.request("GET", path)
        self.assertEqual(status, 200, body)
        return json.loads(body)

    def post_spans(self, spans, compress=False):
        body = json.dumps(spans).encode()
        headers = {"Content-Type": "application/json"}
        if compress:
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        return self.request("POST", "/api/v2/spans", body, headers)[0]

    def setUp(self):
        self.assertEqual(self.request("POST", "/reset")[0], 200)

    def test_health(self):
        self.assertEqual(self.request("GET", "/health"), (200, b"OK\n"))

    def test_post_and_query(self):
        t1, t2 = "4bf92f3577b34da6a3ce929d0e0e4736", "0000000000000077"
        self.assertEqual(self.post_spans([
            span(t1, "00000000000000a1", "My-Service-Waypoint.demo", "Route:80/*"),
            span(t1, "00000000000000a2", "client.demo", "call", parent="00000000000000a1"),
        ]), 202)
        self.assertEqual(self.post_spans([span(t2, "00000000000000b1", "client.demo", "other",
                                               ts=2)], compress=True), 202)
        self.assertEqual(self.get_json("/api/v2/services"),
                         ["client.demo", "my-service-waypoint.demo"])
        self.assertEqual(self.get_json("/api/v2/spans?serviceName=client.demo"),
                         ["call", "other"])
        self.assertEqual(self.request("GET", "/api/v2/spans")[0], 400)
        traces = self.get_json("/api/v2/traces")
        self.assertEqual([[s["id"] for s in t] for t in traces],
                         [["00000000000000b1"], ["00000000000000a1", "00000000000000a2"]])
        traces = self.get_json("/api/v2/traces?serviceName=my-service-waypoint.demo")
        self.assertEqual(len(traces), 1)
        self.assertEqual(len(traces[0]), 2)
        self.assertEqual(len(self.get_json("/api/v2/traces?limit=1")), 1)
        self.assertEqual(len(self.get_json("/api/v2/trace/" + t1.upper())), 2)
        # A 64-bit id and its 128-bit form with a zero upper half are the same trace.
        self.assertEqual(len(self.get_json("/api/v2/trace/" + "0" * 16 + t2)), 1)
        self.assertEqual(self.request("GET", "/api/v2/trace/" + "1" * 16)[0], 404)
        spans = self.get_json("/spans?serviceName=my-service-waypoint.demo")
        self.assertEqual([s["name"] for s in spans], ["route:80/*"])
        self.assertEqual(len(self.get_json("/spans?traceId=" + t1)), 2)

    def test_bad_bodies_are_refused(self):
        for body in (b"{", b"{}", b'[{"traceId": "xyz", "id": "00000000000000a1"}]',
                     b'[{"traceId": "0000000000000077", "id": "a1"}]',
                     b'[{"traceId": "0000000000000077", "id": "00000000000000a1",'
                     b' "tags": {"n": 1}}]'):
            status, _ = self.request("POST", "/api/v2/spans", body)
            self.assertEqual(status, 400, body)
        self.assertEqual(self.get_json("/stats")["spans"], 0)
        self.assertEqual(self.get_json("/stats")["rejected"], 5)

    def test_bounded_and_reset(self):
        spans = [span("0000000000000077", "%016x" % i, "s", "n") for i in range(1, 8)]
        self.assertEqual(self.post_spans(spans), 202)
        stats = self.get_json("/stats")
        self.assertEqual((stats["spans"], stats["evicted"]), (5, 2))
        kept = [s["id"] for s in self.get_json("/spans")]
        self.assertEqual(kept, ["%016x" % i for i in range(3, 8)])
        self.assertEqual(self.request("DELETE", "/api/v2/spans")[0], 200)
        self.assertEqual(self.get_json("/spans"), [])


if __name__ == "__main__":
    unittest.main()
