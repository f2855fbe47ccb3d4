#!/usr/bin/python3
"""zipkin_collector: a small Zipkin-compatible collector for the lab and system tests. It keeps
the spans POSTed to it in memory (the newest 100,000 at most) and answers the parts of Zipkin's
v2 API that tests read, the way Zipkin does (ids, service and span names are stored in lower
case, as Zipkin stores them). Python 3 standard library only.

  zipkin_collector.py --listen 0.0.0.0:9411 [--max-spans 100000]

Zipkin's endpoints:
  POST /api/v2/spans               a JSON array of v2 spans (a gzip body too); 202, or 400 when
                                   the body is not an array of spans with valid ids
  GET  /api/v2/services            the local service names seen, sorted
  GET  /api/v2/spans?serviceName=S the span names recorded by that service, sorted (in Zipkin's
                                   API this endpoint lists names, not spans)
  GET  /api/v2/traces[?serviceName=S][&spanName=N][&limit=10]
                                   a list of traces, each the list of its spans, newest trace
                                   first; a trace is listed when any of its spans matches
  GET  /api/v2/trace/<traceId>     the spans of one trace; 404 when there are none
Ambit's additions, for tests:
  GET  /spans[?serviceName=S][&spanName=N][&traceId=T][&limit=L]
                                   the stored spans that match, oldest first, as one list
  POST /reset, DELETE /reset, DELETE /api/v2/spans
                                   forget every span and zero the counts of /stats
  GET  /health                     "OK"
  GET  /stats                      {"spans": n, "received": n, "evicted": n, "rejected": n}
"""
import argparse
import collections
import gzip
import json
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 16 * 1024 * 1024


def log(msg):
    print(time.strftime("%Y-%m-%dT%H:%M:%S ") + msg, flush=True)


def normalize_id(value):
    """Zipkin compares ids as lower-case hex, a 128-bit id whose upper half is zero equal to its
    64-bit form."""
    value = str(value).lower()
    if len(value) == 32 and value.startswith("0" * 16):
        return value[16:]
    return value


class Store:
    """The spans received, oldest first, bounded: the oldest go when it is full."""

    def __init__(self, max_spans):
        self.lock = threading.Lock()
        self.spans = collections.deque(maxlen=max_spans)
        self.received = 0
        self.evicted = 0
        self.rejected = 0

    def add(self, spans):
        with self.lock:
            for span in map(normalize_span, spans):
                if len(self.spans) == self.spans.maxlen:
                    self.evicted += 1
                self.spans.append(span)
                self.received += 1

    def reject(self):
        with self.lock:
            self.rejected += 1

    def reset(self):
        with self.lock:
            self.spans.clear()
            self.received = self.evicted = self.rejected = 0

    def snapshot(self):
        with self.lock:
            return list(self.spans)

    def stats(self):
        with self.lock:
            return {"spans": len(self.spans), "received": self.received,
                    "evicted": self.evicted, "rejected": self.rejected}


def valid_span(span):
    """The fields Zipkin requires of a v2 span, with ids of the right lengths."""
    if not isinstance(span, dict):
        return False
    trace_id, span_id = span.get("traceId"), span.get("id")
    if not isinstance(trace_id, str) or len(trace_id) not in (16, 32):
        return False
    if not isinstance(span_id, str) or len(span_id) != 16:
        return False
    try:
        int(trace_id, 16)
        int(span_id, 16)
        if "parentId" in span:
            int(span["parentId"], 16)
    except (TypeError, ValueError):
        return False
    tags = span.get("tags", {})
    return isinstance(tags, dict) and all(isinstance(v, str) for v in tags.values())


def normalize_span(span):
    """The span as Zipkin stores it: lower-case ids, service names and span name."""
    span = dict(span)
    for key in ("traceId", "id", "parentId"):
        if key in span:
            span[key] = span[key].lower()
    if "name" in span:
        span["name"] = str(span["name"]).lower()
    for key in ("localEndpoint", "remoteEndpoint"):
        endpoint = span.get(key)
        if isinstance(endpoint, dict) and "serviceName" in endpoint:
            span[key] = dict(endpoint, serviceName=str(endpoint["serviceName"]).lower())
    return span


def service_of(span):
    return (span.get("localEndpoint") or {}).get("serviceName", "")


def matches(span, query):
    service = query.get("serviceName")
    if service and service_of(span).lower() != service.lower():
        return False
    name = query.get("spanName")
    if name and name != "all" and span.get("name", "").lower() != name.lower():
        return False
    trace = query.get("traceId")
    if trace and normalize_id(span["traceId"]) != normalize_id(trace):
        return False
    return True


def group_traces(spans):
    """Spans grouped by trace id, in the order the traces were first seen."""
    traces = collections.OrderedDict()
    for span in spans:
        traces.setdefault(normalize_id(span["traceId"]), []).append(span)
    return traces


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ambit-zipkin"
    store = None  # set by main

    def log_message(self, fmt, *args):  # one line per request is noise under load
        pass

    def send_json(self, status, value):
        self.send_body(status, json.dumps(value).encode(), "application/json")

    def send_body(self, status, body, content_type="text/plain; charset=utf-8"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY:
            raise ValueError("body too large")
        body = self.rfile.read(length)
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            body = gzip.decompress(body)
        return body

    def route(self):
        url = urllib.parse.urlsplit(self.path)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
        return url.path.rstrip("/") or "/", query

    def limit(self, query, default):
        try:
            return max(0, int(query.get("limit", default)))
        except ValueError:
            return default

    def do_POST(self):
        path, _ = self.route()
        try:
            body = self.read_body()
        except (ValueError, OSError) as e:
            self.close_connection = True
            self.send_body(400, f"cannot read body: {e}\n".encode())
            return
        if path == "/reset":
            self.store.reset()
            self.send_body(200, b"OK\n")
            return
        if path != "/api/v2/spans":
            self.send_body(404, b"not found\n")
            return
        try:
            spans = json.loads(body or b"[]")
        except ValueError as e:
            self.store.reject()
            self.send_body(400, f"not JSON: {e}\n".encode())
            return
        if not isinstance(spans, list) or not all(valid_span(s) for s in spans):
            self.store.reject()
            self.send_body(400, b"expected a JSON array of Zipkin v2 spans\n")
            return
        self.store.add(spans)
        self.send_body(202, b"")

    def do_DELETE(self):
        path, _ = self.route()
        if path in ("/reset", "/api/v2/spans"):
            self.store.reset()
            self.send_body(200, b"OK\n")
        else:
            self.send_body(404, b"not found\n")

    def do_GET(self):
        path, query = self.route()
        spans = self.store.snapshot()
        if path == "/health":
            self.send_body(200, b"OK\n")
        elif path == "/stats":
            self.send_json(200, self.store.stats())
        elif path == "/api/v2/services":
            self.send_json(200, sorted({service_of(s) for s in spans if service_of(s)}))
        elif path == "/api/v2/spans":
            if not query.get("serviceName"):
                self.send_body(400, b"serviceName is required\n")
                return
            names = {s.get("name", "") for s in spans if matches(s, query)}
            self.send_json(200, sorted(n for n in names if n))
        elif path == "/spans":
            found = [s for s in spans if matches(s, query)]
            self.send_json(200, found[:self.limit(query, len(found))])
        elif path == "/api/v2/traces":
            traces = group_traces(spans)
            selected = [t for t in traces.values() if any(matches(s, query) for s in t)]
            selected.reverse()  # newest first, as Zipkin lists them
            self.send_json(200, selected[:self.limit(query, 10)])
        elif path.startswith("/api/v2/trace/"):
            trace = group_traces(spans).get(normalize_id(path[len("/api/v2/trace/"):]))
            if trace:
                self.send_json(200, trace)
            else:
                self.send_body(404, b"trace not found\n")
        else:
            self.send_body(404, b"not found\n")

    do_HEAD = do_GET


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, handler):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, handler)


def parse_listen(text):
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", type=parse_listen, default=("0.0.0.0", 9411),
                        help="HOST:PORT to listen on (default 0.0.0.0:9411; port 0 picks one)")
    parser.add_argument("--max-spans", type=int, default=100_000,
                        help="spans kept at most; the oldest go first (default 100000)")
    args = parser.parse_args()
    Handler.store = Store(max(1, args.max_spans))
    server = Server(args.listen, Handler)
    host, port = server.server_address[:2]
    log(f"zipkin collector listening on {host}:{port}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
