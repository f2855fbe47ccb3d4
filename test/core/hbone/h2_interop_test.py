#!/usr/bin/python3
"""HBONE interoperability: Python's h2, an HTTP/2 stack independent of nghttp2, plays the client
of HboneServerSession (served in plaintext by hbone_echo_server, whose path is the argument).

Checks: the server's SETTINGS, a CONNECT tunnel with forwarded/baggage/traceparent headers, 1 MiB
echoed intact, half-close both ways, 405/400/403 answers while a tunnel flows, and that an HTTP/1.1
client is turned away without stopping the server."""

import socket
import subprocess
import sys

import h2.config
import h2.connection
import h2.events
import h2.settings


def pattern(size, seed):
    x = (seed * 2654435761 + 1) & 0xFFFFFFFF
    out = bytearray(size)
    for i in range(size):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        out[i] = x & 0xFF
    return bytes(out)


class Client:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        # h2 4.1 wants :scheme and :path on every request, even a plain CONNECT (RFC 9113
        # section 8.5 forbids them there), so its outbound check is off.
        config = h2.config.H2Configuration(client_side=True, header_encoding="utf-8",
                                           validate_outbound_headers=False)
        self.conn = h2.connection.H2Connection(config=config)
        self.conn.initiate_connection()
        self.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1 << 20})
        self.conn.increment_flow_control_window(8 << 20)
        self.responses = {}
        self.data = {}
        self.ended = set()
        self.resets = {}
        self.peer_settings = {}
        self.flush()

    def flush(self):
        out = self.conn.data_to_send()
        if out:
            self.sock.sendall(out)

    def read_until(self, done):
        while not done():
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError("the server closed the connection")
            for event in self.conn.receive_data(chunk):
                self.handle(event)
            self.flush()

    def handle(self, event):
        if isinstance(event, h2.events.RemoteSettingsChanged):
            for code, setting in event.changed_settings.items():
                self.peer_settings[code] = setting.new_value
        elif isinstance(event, h2.events.ResponseReceived):
            self.responses[event.stream_id] = dict(event.headers)
        elif isinstance(event, h2.events.DataReceived):
            self.data.setdefault(event.stream_id, bytearray()).extend(event.data)
            self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            self.ended.add(event.stream_id)
        elif isinstance(event, h2.events.StreamReset):
            self.resets[event.stream_id] = event.error_code

    def open(self, headers):
        stream_id = self.conn.get_next_available_stream_id()
        self.conn.send_headers(stream_id, headers)
        self.flush()
        return stream_id

    def send_all(self, stream_id, data):
        view = memoryview(data)
        while view:
            window = min(self.conn.local_flow_control_window(stream_id),
                         self.conn.max_outbound_frame_size)
            if window == 0:
                self.read_until(lambda: self.conn.local_flow_control_window(stream_id) > 0)
                continue
            self.conn.send_data(stream_id, bytes(view[:window]))
            self.flush()
            view = view[window:]


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    print("ok:", what)


def run(port):
    client = Client(port)
    client.read_until(lambda: h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS in client.peer_settings)
    check(client.peer_settings[h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS] == 100,
          "the server advertises 100 concurrent streams")

    baggage = "k8s.namespace.name=default,k8s.pod.name=client"
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    tunnel = client.open([(":method", "CONNECT"), (":authority", "10.0.0.5:8080"),
                          ("forwarded", "for=10.0.0.9"), ("baggage", baggage),
                          ("traceparent", traceparent)])
    client.read_until(lambda: tunnel in client.responses)
    response = client.responses[tunnel]
    check(response[":status"] == "200", "CONNECT opens a tunnel")
    check(response.get("x-echo-forwarded") == "for=10.0.0.9" and
          response.get("x-echo-baggage") == baggage and
          response.get("x-echo-traceparent") == traceparent,
          "forwarded, baggage and traceparent reach the server")

    get = client.open([(":method", "GET"), (":scheme", "https"), (":authority", "10.0.0.5:8080"),
                       (":path", "/")])
    by_name = client.open([(":method", "CONNECT"), (":authority", "example.com:80")])
    refused = client.open([(":method", "CONNECT"), (":authority", "[fd00::5]:81")])
    client.read_until(lambda: all(s in client.responses for s in (get, by_name, refused)))
    check(client.responses[get][":status"] == "405", "GET is answered 405")
    check(client.responses[by_name][":status"] == "400", "a host name authority is answered 400")
    check(client.responses[refused][":status"] == "403", "the server's handler refuses with 403")

    up = pattern(1 << 20, 1)
    client.send_all(tunnel, up)
    client.conn.end_stream(tunnel)
    client.flush()
    client.read_until(lambda: tunnel in client.ended)
    check(bytes(client.data.get(tunnel, b"")) == up, "1 MiB comes back intact through the tunnel")
    check(tunnel not in client.resets, "the tunnel ends cleanly both ways")

    client.conn.close_connection()
    client.flush()
    client.sock.close()

    plain = socket.create_connection(("127.0.0.1", port), timeout=10)
    plain.sendall(b"GET / HTTP/1.1\r\nHost: 10.0.0.5\r\n\r\n")
    rest = b""
    while True:
        chunk = plain.recv(65536)
        if not chunk:
            break
        rest += chunk
    plain.close()
    # Whatever HTTP/2 frames the server had queued (its SETTINGS, a GOAWAY) may reach the client
    # first; an HTTP/1.1 answer never does, and the connection is closed.
    check(not rest.startswith(b"HTTP/"), f"an HTTP/1.1 client gets no HTTP/1 answer: {rest[:40]!r}")

    again = Client(port)
    stream = again.open([(":method", "CONNECT"), (":authority", "10.0.0.6:9090")])
    again.read_until(lambda: stream in again.responses)
    check(again.responses[stream][":status"] == "200", "the server still serves afterwards")
    again.sock.close()


def main():
    server = subprocess.Popen([sys.argv[1]], stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        run(port)
    finally:
        server.terminate()
        server.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
