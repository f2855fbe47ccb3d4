#!/usr/bin/python3
"""An HBONE client of its own (Python's ssl and h2), for hbone_wire_test.py.

Runs inside a pod's network namespace (`scripts/lab exec <pod> -- python3 hbone_wire_client.py
'<json>'`) and speaks to an HBONE server (port 15008) the way the JSON says; it prints what it
saw as JSON lines on stdout and judges nothing: the test does. Every wait has a deadline.

The JSON is one object with "case" and the case's parameters:

  tls        one connection: the TLS handshake, then the HTTP/2 preface and, if "authority" is
             given, one CONNECT; reports the negotiated version, ALPN, the server's URI SANs and
             how (and whether) the server answered.
  steps      one connection, then a list of steps on named streams: open (any request headers),
             send (text, or a byte pattern of a size, optionally with END_STREAM), end (an empty
             END_STREAM), read (a byte count, or up to END_STREAM), reset, pump (just read for a
             while); reports every stream's state.
  many       one connection, n CONNECT streams that stay open, either in the first flight (before
             the server's SETTINGS are acknowledged) or after it, beyond the advertised limit;
             then checks that the first stream still echoes.
  flow       a tunnel to a TCP echo; sends up to "size" bytes as the server's windows allow, never
             acknowledging what comes back (no WINDOW_UPDATE); reports when it stalls, then waits
             for a line on stdin before it cancels the stream and closes.
  plaintext  the HTTP/2 preface and a CONNECT in clear text to the TLS port; reports what came
             back. With "send": false, connects and closes without sending a byte.

TLS options ("tls" object): "ca" (PEM roots to verify the server against), "cert" and "key"
(the client certificate, or none), "min_version"/"max_version" (ssl.TLSVersion names), "alpn"
(a list, or null for no ALPN extension at all).
"""

import hashlib
import json
import select
import socket
import ssl
import sys
import time

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def out(obj):
    print(json.dumps(obj, sort_keys=True), flush=True)


def pattern(size, seed=0):
    """Deterministic bytes: the test computes the same to compare digests."""
    block = bytes((i * 7 + 3 + seed) % 251 for i in range(251))
    return (block * (size // 251 + 1))[:size]


def digest(data):
    return hashlib.sha256(data).hexdigest()


def error_text(e):
    if isinstance(e, ssl.SSLError):
        return f"{type(e).__name__}: {e.reason or ''} ({e})"
    return f"{type(e).__name__}: {e}"


class LimitFreeConnection(h2.connection.H2Connection):
    """h2 refuses to open more streams than the peer's SETTINGS_MAX_CONCURRENT_STREAMS; a test of
    the server's enforcement has to go beyond it on purpose."""

    ignore_stream_limit = False

    @property
    def open_outbound_streams(self):
        if self.ignore_stream_limit:
            return 0
        return super().open_outbound_streams


class Stream:
    def __init__(self, sid):
        self.id = sid
        self.status = None
        self.headers = []
        self.data = bytearray()
        self.ended = False  # the server's END_STREAM
        self.reset = None  # the RST_STREAM code, either way
        self.reset_by_us = False
        self.sent = 0
        self.sent_digest = hashlib.sha256()

    def answered(self):
        return self.status is not None or self.reset is not None

    def report(self, max_text=65536):
        r = {"id": self.id, "status": self.status, "headers": self.headers, "ended": self.ended,
             "reset": self.reset, "reset_by_us": self.reset_by_us, "received": len(self.data),
             "received_sha256": digest(bytes(self.data)), "sent": self.sent,
             "sent_sha256": self.sent_digest.hexdigest()}
        if len(self.data) <= max_text:
            r["text"] = bytes(self.data).decode("latin-1")
        return r


class Session:
    """An h2 client session over a blocking (TLS) socket, driven by pump()."""

    def __init__(self, sock, ack=True, limit_free=False):
        self.sock = sock
        self.ack = ack  # acknowledge received DATA (WINDOW_UPDATE) as it arrives
        config = h2.config.H2Configuration(client_side=True, header_encoding="utf-8",
                                           validate_outbound_headers=False)
        cls = LimitFreeConnection if limit_free else h2.connection.H2Connection
        self.conn = cls(config=config)
        self.streams = {}
        self.goaway = None  # {"error_code", "last_stream_id", "data"}
        self.eof = False
        self.error = None  # a read (socket, TLS) or HTTP/2 error that ended the session
        self.send_error = None  # writing failed; reading goes on, to see why (GOAWAY, alert)
        self.remote_settings = None
        self.settings_acked = False
        self.bytes_in = 0
        self.data_in = 0  # DATA payload bytes, all streams

    @property
    def dead(self):
        return self.eof or self.error is not None

    def start(self, flush=True):
        self.conn.initiate_connection()
        if flush:
            self.flush()

    def flush(self):
        data = self.conn.data_to_send()
        if data and not self.dead and self.send_error is None:
            try:
                self.sock.sendall(data)
            except (OSError, ssl.SSLError) as e:
                self.send_error = error_text(e)

    def pump(self, timeout):
        """Reads once (waiting at most `timeout` s) and handles what came."""
        if self.dead:
            time.sleep(min(timeout, 0.05))
            return
        pending = isinstance(self.sock, ssl.SSLSocket) and self.sock.pending() > 0
        if not pending:
            readable, _, _ = select.select([self.sock], [], [], max(timeout, 0))
            if not readable:
                return
        try:
            data = self.sock.recv(65536)
        except (socket.timeout, BlockingIOError, ssl.SSLWantReadError):
            return
        except (OSError, ssl.SSLError) as e:
            self.error = "recv: " + error_text(e)
            return
        if not data:
            self.eof = True
            return
        self.bytes_in += len(data)
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError as e:
            self.error = "http2: " + error_text(e)
            self.flush()
            return
        for ev in events:
            self.handle(ev)
        self.flush()

    def stream(self, sid):
        if sid not in self.streams:
            self.streams[sid] = Stream(sid)
        return self.streams[sid]

    def handle(self, ev):
        if isinstance(ev, (h2.events.ResponseReceived, h2.events.InformationalResponseReceived)):
            s = self.stream(ev.stream_id)
            headers = [(str(k), str(v)) for k, v in ev.headers]
            if isinstance(ev, h2.events.ResponseReceived):
                s.status = int(dict(headers).get(":status", "0"))
            s.headers.extend(headers)
        elif isinstance(ev, h2.events.TrailersReceived):
            self.stream(ev.stream_id).headers.extend((str(k), str(v)) for k, v in ev.headers)
        elif isinstance(ev, h2.events.DataReceived):
            s = self.stream(ev.stream_id)
            s.data += ev.data
            self.data_in += len(ev.data)
            if self.ack:
                self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
        elif isinstance(ev, h2.events.StreamEnded):
            self.stream(ev.stream_id).ended = True
        elif isinstance(ev, h2.events.StreamReset):
            s = self.stream(ev.stream_id)
            if s.reset is None:
                s.reset = int(ev.error_code)
                s.reset_by_us = not ev.remote_reset
        elif isinstance(ev, h2.events.ConnectionTerminated):
            self.goaway = {"error_code": int(ev.error_code), "last_stream_id": ev.last_stream_id,
                           "data": (ev.additional_data or b"").decode("latin-1")}
        elif isinstance(ev, h2.events.RemoteSettingsChanged):
            self.remote_settings = {int(k): v.new_value for k, v in ev.changed_settings.items()}
        elif isinstance(ev, h2.events.SettingsAcknowledged):
            self.settings_acked = True

    def wait(self, pred, timeout):
        """Pumps until pred() or `timeout` s or the session ends; returns pred()."""
        deadline = time.monotonic() + timeout
        while not pred():
            left = deadline - time.monotonic()
            if left <= 0 or self.dead:
                break
            if self.goaway is not None and not self.conn.open_outbound_streams:
                break
            self.pump(min(left, 0.2))
        return pred()

    def open(self, headers, end_stream=False):
        sid = self.conn.get_next_available_stream_id()
        self.conn.send_headers(sid, headers, end_stream=end_stream)
        self.stream(sid)
        self.flush()
        return sid

    def send(self, sid, data, end=False, timeout=20):
        """Sends as the windows allow; returns the bytes sent (fewer on timeout or reset)."""
        s = self.stream(sid)
        deadline = time.monotonic() + timeout
        view = memoryview(data)
        sent = 0
        while sent < len(data):
            if (s.reset is not None or self.dead or self.send_error is not None
                    or time.monotonic() >= deadline):
                return sent
            try:
                window = min(self.conn.local_flow_control_window(sid),
                             self.conn.max_outbound_frame_size)
                if window <= 0:
                    self.pump(0.1)
                    continue
                chunk = view[sent:sent + window]
                self.conn.send_data(sid, bytes(chunk))
            except h2.exceptions.ProtocolError:  # the stream or the connection is closed
                return sent
            s.sent += len(chunk)
            s.sent_digest.update(chunk)
            sent += len(chunk)
            self.flush()
            self.pump(0)
        if end:
            try:
                self.conn.end_stream(sid)
            except h2.exceptions.ProtocolError:
                return sent
            self.flush()
        return sent

    def reset(self, sid, code=8):
        try:
            self.conn.reset_stream(sid, error_code=code)
        except h2.exceptions.ProtocolError:
            return
        s = self.stream(sid)
        if s.reset is None:
            s.reset, s.reset_by_us = code, True
        self.flush()

    def report(self):
        return {"goaway": self.goaway, "eof": self.eof, "error": self.error,
                "send_error": self.send_error,
                "remote_settings": self.remote_settings, "bytes_in": self.bytes_in,
                "data_in": self.data_in}

    def close(self):
        try:
            if not self.dead:
                self.conn.close_connection()
                self.flush()
        except h2.exceptions.ProtocolError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass


# ----------------------------------------------------------------------------------- TLS

def tls_context(opts):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False  # a workload certificate names no host: its URI SAN is checked
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(opts["ca"])
    ctx.minimum_version = getattr(ssl.TLSVersion, opts.get("min_version") or "TLSv1_2")
    ctx.maximum_version = getattr(ssl.TLSVersion, opts.get("max_version") or "MAXIMUM_SUPPORTED")
    alpn = opts.get("alpn", ["h2"])
    if alpn is not None:
        ctx.set_alpn_protocols(alpn)
    if opts.get("cert"):
        ctx.load_cert_chain(opts["cert"], opts["key"])
    return ctx


def connect_tls(p):
    """Returns (tls socket or None, facts)."""
    timeout = p.get("timeout", 10)
    facts = {"local": None, "handshake": None, "handshake_error": None}
    try:
        raw = socket.create_connection((p["target"], p.get("port", 15008)), timeout=timeout)
    except OSError as e:
        facts["handshake"] = "tcp_failed"
        facts["handshake_error"] = error_text(e)
        return None, facts
    facts["local"] = "%s:%d" % raw.getsockname()[:2]
    tls = tls_context(p["tls"]).wrap_socket(raw, do_handshake_on_connect=False)
    try:
        tls.do_handshake()
    except (OSError, ssl.SSLError) as e:
        facts["handshake"] = "failed"
        facts["handshake_error"] = error_text(e)
        tls.close()
        return None, facts
    facts["handshake"] = "ok"
    facts["version"] = tls.version()
    facts["alpn"] = tls.selected_alpn_protocol()
    facts["cipher"] = tls.cipher()[0]
    cert = tls.getpeercert() or {}
    facts["peer_uris"] = [v for k, v in cert.get("subjectAltName", ()) if k == "URI"]
    facts["peer_not_after"] = cert.get("notAfter")
    expect = p.get("expect_san")
    # The client's own check of whom it reached: exactly the expected identity, else no traffic.
    facts["peer_identity_ok"] = expect is None or facts["peer_uris"] == [expect]
    return tls, facts


def connect_session(p, **kw):
    tls, facts = connect_tls(p)
    if tls is None:
        return None, facts
    if not facts["peer_identity_ok"]:
        tls.close()
        facts["handshake"] = "wrong_server_identity"
        return None, facts
    session = Session(tls, **kw)
    return session, facts


def connect_headers(authority, extra=()):
    return [(":method", "CONNECT"), (":authority", authority)] + [tuple(h) for h in extra]


# ---------------------------------------------------------------------------------- cases

def case_tls(p):
    """Handshake, preface, optionally one CONNECT; what the server did."""
    session, facts = connect_session(p)
    if session is None:
        out(facts)
        return
    timeout = p.get("timeout", 10)
    session.start()
    sid = None
    if p.get("authority"):
        sid = session.open(connect_headers(p["authority"]))
        session.wait(lambda: session.stream(sid).answered(), timeout)
    else:
        session.wait(lambda: session.remote_settings is not None, timeout)
    # In TLS 1.3 the server judges the client's certificate after the client has finished its
    # handshake: a refusal arrives as an alert (or a reset) on the first read.
    facts["session"] = session.report()
    facts["server_settings"] = session.remote_settings is not None
    if sid is not None:
        s = session.stream(sid)
        facts["status"] = s.status
        facts["reset"] = s.reset
        if s.status == 200 and p.get("probe"):
            session.send(sid, p["probe"].encode())
            n = len(p["probe"])
            session.wait(lambda: len(s.data) >= n or s.ended or s.reset is not None, timeout)
            facts["probe_echo"] = bytes(s.data).decode("latin-1")
    session.close()
    out(facts)


def case_steps(p):
    session, facts = connect_session(p)
    if session is None:
        out(facts)
        return
    session.start()
    timeout = p.get("timeout", 10)
    names = {}
    log = []
    for step in p["steps"]:
        op, name = step["op"], step.get("name")
        entry = {"op": op, "name": name}
        try:
            if op == "open":
                sid = session.open([tuple(h) for h in step["headers"]],
                                   end_stream=step.get("end", False))
                names[name] = sid
                s = session.stream(sid)
                if step.get("wait", True):
                    session.wait(s.answered, step.get("timeout", timeout))
                entry.update(id=sid, status=s.status, reset=s.reset)
            elif op == "send":
                s = session.stream(names[name])
                if "text" in step:
                    data = step["text"].encode("latin-1")
                else:
                    data = pattern(step["pattern"], step.get("seed", 0))
                entry["sent"] = session.send(s.id, data, end=step.get("end", False),
                                             timeout=step.get("timeout", timeout))
            elif op == "read":
                s = session.stream(names[name])
                if step.get("until_end"):
                    pred = lambda: s.ended or s.reset is not None  # noqa: E731
                else:
                    want = step["bytes"]
                    pred = lambda: (len(s.data) >= want or s.ended  # noqa: E731
                                    or s.reset is not None)
                entry["done"] = session.wait(pred, step.get("timeout", timeout))
                entry["received"] = len(s.data)
            elif op == "end":
                session.conn.end_stream(names[name])
                session.flush()
            elif op == "reset":
                session.reset(names[name], step.get("code", 8))
            elif op == "pump":
                session.wait(lambda: False, step.get("seconds", 0.5))
            else:
                entry["error"] = f"unknown op {op}"
        except (h2.exceptions.ProtocolError, KeyError) as e:
            entry["error"] = error_text(e)
        log.append(entry)
    facts["steps"] = log
    facts["streams"] = {name: session.stream(sid).report() for name, sid in names.items()}
    facts["session"] = session.report()
    session.close()
    out(facts)


def case_many(p):
    """n CONNECT streams that stay open; in the first flight, or after the SETTINGS exchange and
    beyond the server's advertised limit."""
    first_flight = p["mode"] == "first_flight"
    session, facts = connect_session(p, limit_free=not first_flight)
    if session is None:
        out(facts)
        return
    timeout = p.get("timeout", 15)
    n = p["n"]
    ids = []
    if first_flight:
        # Everything goes out before a byte of the server's is read, so the server's SETTINGS
        # are not acknowledged yet when the streams arrive.
        session.start(flush=False)
        for _ in range(n):
            sid = session.conn.get_next_available_stream_id()
            session.conn.send_headers(sid, connect_headers(p["authority"]))
            session.stream(sid)
            ids.append(sid)
        session.flush()
    else:
        session.start()
        session.wait(lambda: session.remote_settings is not None, timeout)
        session.pump(0.2)  # our SETTINGS ACK is flushed by the pump that received them
        limit = (session.remote_settings or {}).get(h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS)
        facts["advertised_limit"] = limit
        first = min(n, limit or n)
        for _ in range(first):
            ids.append(session.open(connect_headers(p["authority"])))
        session.wait(lambda: all(session.stream(i).answered() for i in ids), timeout)
        facts["before_excess"] = sum(session.stream(i).status == 200 for i in ids)
        session.conn.ignore_stream_limit = True
        for _ in range(n - first):
            try:
                ids.append(session.open(connect_headers(p["authority"])))
            except h2.exceptions.ProtocolError as e:
                facts["open_error"] = error_text(e)
                break
    session.wait(lambda: all(session.stream(i).answered() for i in ids), timeout)
    statuses, resets, silent = {}, {}, []
    for i in ids:
        s = session.stream(i)
        if s.status is not None:
            statuses[str(s.status)] = statuses.get(str(s.status), 0) + 1
        elif s.reset is not None:
            resets[str(s.reset)] = resets.get(str(s.reset), 0) + 1
        else:
            silent.append(i)
    facts.update(opened=len(ids), statuses=statuses, resets=resets, unanswered=silent,
                 refused_ids=[i for i in ids if session.stream(i).reset == 7],
                 ok_ids=[i for i in ids if session.stream(i).status == 200],
                 open_after=sum(1 for i in ids if session.stream(i).status == 200
                                and session.stream(i).reset is None))
    # The first stream (opened before the excess) must still carry data both ways.
    first = session.stream(ids[0])
    probe = p.get("probe", "still here\n")
    if (first.status == 200 and first.reset is None and not session.dead
            and session.goaway is None):
        session.send(first.id, probe.encode())
        session.wait(lambda: len(first.data) >= len(probe) or first.reset is not None, timeout)
    facts["first_stream"] = first.report()
    if session.goaway is not None or session.send_error is not None:
        deadline = time.monotonic() + 3  # does the server close the connection too?
        while not session.dead and time.monotonic() < deadline:
            session.pump(0.2)
    facts["session"] = session.report()
    session.close()
    out(facts)


def case_flow(p):
    """Sends up to p["size"] bytes to a TCP echo and never acknowledges the echo."""
    session, facts = connect_session(p, ack=False)
    if session is None:
        facts["phase"] = "failed"
        out(facts)
        return
    session.start()
    timeout = p.get("timeout", 10)
    sid = session.open(connect_headers(p["authority"]))
    s = session.stream(sid)
    session.wait(s.answered, timeout)
    facts["status"] = s.status
    if s.status != 200:
        facts["phase"] = "failed"
        facts["session"] = session.report()
        out(facts)
        return
    data = pattern(p["size"])
    stall = p.get("stall_seconds", 3.0)
    deadline = time.monotonic() + p.get("max_seconds", 60)
    sent, last_progress = 0, time.monotonic()
    while sent < len(data) and time.monotonic() < deadline:
        n = session.send(sid, data[sent:sent + 65536], timeout=0.2)
        if n:
            sent += n
            last_progress = time.monotonic()
        elif time.monotonic() - last_progress >= stall:
            break
        if s.reset is not None or session.dead:
            break
    facts["sent"] = sent
    facts["all_sent"] = sent == len(data)
    facts["received_at_stall"] = len(s.data)
    # Keep reading (never acknowledging) for a while: nothing more may come.
    session.wait(lambda: False, p.get("watch_seconds", 2.0))
    facts["received"] = len(s.data)
    facts["received_prefix_ok"] = bytes(s.data) == data[:len(s.data)]
    facts["connection_window_left"] = session.conn.inbound_flow_control_window
    facts["advertised_stream_window"] = session.conn.local_settings.initial_window_size
    facts["session"] = session.report()
    facts["reset"] = s.reset
    facts["phase"] = "stalled"
    out(facts)
    # The test measures the agent meanwhile, then says when to go on.
    ready, _, _ = select.select([sys.stdin], [], [], p.get("hold_seconds", 120))
    if ready:
        sys.stdin.readline()
    session.reset(sid, 8)  # CANCEL
    session.close()
    out({"phase": "closed"})


def case_plaintext(p):
    facts = {"local": None}
    timeout = p.get("timeout", 10)
    try:
        sock = socket.create_connection((p["target"], p.get("port", 15008)), timeout=timeout)
    except OSError as e:
        facts["connect_error"] = error_text(e)
        out(facts)
        return
    facts["local"] = "%s:%d" % sock.getsockname()[:2]
    if not p.get("send", True):
        sock.close()  # not a byte: the server sees a connection that ends before its ClientHello
        facts["closed"] = "by_client"
        out(facts)
        return
    conn = h2.connection.H2Connection(h2.config.H2Configuration(
        client_side=True, validate_outbound_headers=False))
    conn.initiate_connection()
    conn.send_headers(1, [(":method", "CONNECT"), (":authority", p.get("authority", "1.2.3.4:80"))])
    data = conn.data_to_send()
    got = b""
    how = "timeout"
    try:
        sock.sendall(data)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sock.settimeout(max(deadline - time.monotonic(), 0.01))
            chunk = sock.recv(65536)
            if not chunk:
                how = "eof"
                break
            got += chunk
    except socket.timeout:
        how = "timeout"
    except ConnectionResetError:
        how = "reset"
    except OSError as e:
        how = error_text(e)
    sock.close()
    facts.update(closed=how, received=len(got), received_hex=got[:64].hex())
    out(facts)


CASES = {"tls": case_tls, "steps": case_steps, "many": case_many, "flow": case_flow,
         "plaintext": case_plaintext}


def main():
    p = json.loads(sys.argv[1])
    CASES[p["case"]](p)


if __name__ == "__main__":
    main()
