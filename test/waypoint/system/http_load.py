#!/usr/bin/python3
"""Sends HTTP/1.1 requests from inside a lab pod and prints one JSON line per request.

  http_load.py URL COUNT [--concurrency N] [-H 'name: value']... [--method M]

Each worker keeps one connection alive for its share of the requests (a new one after the server
closes it). A result line: {"status": 200, "version": "v1", "pod": "...", "ms": 1.2,
"headers": {...}} or {"status": "error", "error": "..."}. Bounded: every request has a 30 s
timeout."""
import argparse
import http.client
import json
import sys
import threading
import time
import urllib.parse


def worker(url, count, headers, method, out, lock):
    u = urllib.parse.urlsplit(url)
    path = (u.path or "/") + (f"?{u.query}" if u.query else "")
    conn = None
    for _ in range(count):
        start = time.monotonic()
        try:
            if conn is None:
                conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=30)
            conn.request(method, path, headers=headers)
            r = conn.getresponse()
            body = r.read().decode(errors="replace")
            fields = dict(line.split("=", 1) for line in body.splitlines() if "=" in line)
            result = {"status": r.status, "version": fields.get("version", ""),
                      "pod": fields.get("pod", ""), "path": fields.get("path", ""),
                      "host": fields.get("host", ""),
                      "headers": {k.lower(): v for k, v in r.getheaders()},
                      "echoed": {k[7:]: v for k, v in fields.items() if k.startswith("header.")},
                      "body": body if r.status >= 300 else ""}
            if r.getheader("connection", "").lower() == "close":
                conn.close()
                conn = None
        except Exception as e:  # noqa: BLE001 - every failure is a result
            result = {"status": "error", "error": repr(e)}
            if conn is not None:
                conn.close()
            conn = None
        result["ms"] = (time.monotonic() - start) * 1000
        with lock:
            out.append(result)
    if conn is not None:
        conn.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("count", type=int)
    p.add_argument("--concurrency", type=int, default=1)
    p.add_argument("-H", dest="headers", action="append", default=[])
    p.add_argument("--method", default="GET")
    a = p.parse_args()
    headers = dict(h.split(":", 1) for h in a.headers)
    headers = {k.strip(): v.strip() for k, v in headers.items()}
    out, lock = [], threading.Lock()
    shares = [a.count // a.concurrency + (1 if i < a.count % a.concurrency else 0)
              for i in range(a.concurrency)]
    threads = [threading.Thread(target=worker, args=(a.url, n, headers, a.method, out, lock))
               for n in shares if n]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in out:
        print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
