// Fuzzes what a client controls of HTTP/1.1 at the waypoint: the bytes of a connection, through
// the request decoder. The input's first byte chooses the limits (small ones reach the 413 and
// 431 refusals) and the size of the pieces the rest is offered in, as reads of a socket deliver
// it. Nothing may crash, and:
//   - how the bytes are cut must not change what the decoder makes of them (a proxy that parses
//     differently by segment boundary can be made to disagree with its upstream);
//   - each request the decoder completes is prepared as the proxy prepares it for the endpoint
//     (hop-by-hop fields removed, a Host when none is left), encoded, and read back: the decoder
//     must take it whole and see the same method, target, fields and body.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "waypoint/http/http1_codec.h"
#include "waypoint/http/http_message.h"

namespace {

using ambit::waypoint::encodeRequest;
using ambit::waypoint::Http1DecodeState;
using ambit::waypoint::Http1Limits;
using ambit::waypoint::Http1RequestDecoder;
using ambit::waypoint::HttpHeaders;
using ambit::waypoint::HttpRequest;
using ambit::waypoint::removeHopByHopHeaders;

// Requests read from one input at most; pipelined requests beyond are not looked at.
constexpr int kMaxRequests = 32;

// What the decoder made of a connection's bytes, comparable between two ways of cutting them:
// each request or refusal in turn, and "incomplete" when the bytes end inside a message.
struct Outcome {
  std::vector<std::string> events;
};

// Whether `a`, which ends incomplete, agrees with `b` up to there.
bool agreesUpToItsEnd(const Outcome& a, const Outcome& b) {
  if (a.events.empty() || a.events.back() != "incomplete") return false;
  const size_t n = a.events.size() - 1;
  return b.events.size() > n &&
         std::equal(a.events.begin(), a.events.begin() + n, b.events.begin());
}

// Beast reads a request line at once when it comes in one piece, and otherwise once the whole
// header is there: a malformed header is refused sooner or later depending on the cut. So an
// outcome that ends incomplete need only agree with the other up to there.
bool agree(const Outcome& a, const Outcome& b) {
  return a.events == b.events || agreesUpToItsEnd(a, b) || agreesUpToItsEnd(b, a);
}

std::string describe(const HttpRequest& request) {
  std::string out = request.method + " " + request.target + " " + std::to_string(request.version);
  for (const auto& field : request.headers) out += "\n" + field.name + ": " + field.value;
  out += "\n\n" + request.body;
  return out;
}

void fail() { std::abort(); }

std::vector<std::pair<std::string, std::string>> endToEndFields(const HttpHeaders& headers) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& field : headers) {
    if (ambit::waypoint::equalsIgnoreCase(field.name, "content-length")) continue;
    out.emplace_back(field.name, field.value);
  }
  return out;
}

// The request as the endpoint gets it, read back by a decoder.
void checkRoundTrip(HttpRequest request, const Http1Limits& limits) {
  removeHopByHopHeaders(request.headers);
  if (!request.headers.has("host")) request.headers.set("host", "fuzz.example");
  for (const bool close : {false, true}) {
    const std::string encoded = encodeRequest(request, close);
    // The encoder may write a field a little longer than it came ("a:b" as "a: b").
    Http1Limits relaxed = limits;
    relaxed.max_header_bytes = 2 * limits.max_header_bytes + 256;
    Http1RequestDecoder decoder(relaxed);
    const size_t used = decoder.feed(encoded);
    if (decoder.state() != Http1DecodeState::kComplete || used != encoded.size()) fail();
    const HttpRequest& again = decoder.request();
    if (again.method != request.method || again.target != request.target ||
        again.body != request.body || again.version != 11) {
      fail();
    }
    HttpHeaders expected = request.headers;
    if (close) expected.add("Connection", "close");
    if (endToEndFields(again.headers) != endToEndFields(expected)) fail();
  }
}

// Offers `input` in pieces of `piece` bytes (all at once when 0), reading every request out.
Outcome decode(std::string_view input, size_t piece, const Http1Limits& limits, bool round_trip) {
  Outcome outcome;
  Http1RequestDecoder decoder(limits);
  std::string pending;
  size_t offset = 0;
  bool inside = false;  // bytes of a message not complete yet were taken
  for (int requests = 0; requests < kMaxRequests;) {
    if (pending.empty()) {
      if (offset == input.size()) break;
      const size_t n = piece == 0 ? input.size() : std::min(piece, input.size() - offset);
      pending.append(input.substr(offset, n));
      offset += n;
    }
    const size_t used = decoder.feed(pending);
    if (used > pending.size()) fail();
    pending.erase(0, used);
    (void)decoder.request();  // what was read so far must be readable at any point
    switch (decoder.state()) {
      case Http1DecodeState::kNeedMore:
        // Incomplete input is consumed whole; what is left waits for more.
        if (!pending.empty() && used == 0) fail();
        inside |= used > 0;
        break;
      case Http1DecodeState::kComplete: {
        ++requests;
        inside = false;
        HttpRequest request = decoder.takeRequest();
        outcome.events.push_back(describe(request));
        if (round_trip) checkRoundTrip(std::move(request), limits);
        break;
      }
      case Http1DecodeState::kError: {
        ++requests;
        inside = false;
        const auto& error = decoder.error();
        if (error.status < 400 || error.status > 599 || error.reason.empty()) fail();
        // Which check refuses first may depend on the cut (a 431 for a header still growing, a
        // 400 for a bad line seen at once), not whether the request is refused.
        outcome.events.push_back(error.close ? "refused, closed" : "refused, kept open");
        if (error.close) return outcome;
        decoder.reset();
        break;
      }
    }
  }
  if (inside) outcome.events.push_back("incomplete");
  return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t choice = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  Http1Limits limits;
  if ((choice & 0x80) != 0) {
    limits.max_header_bytes = 64 + (choice & 0x3f) * 8;
    limits.max_body_bytes = (choice & 0x3f) * 4;
  }
  const size_t piece = 1 + (choice & 0x0f);  // 1 to 16 bytes a read

  const Outcome whole = decode(input, 0, limits, true);
  const Outcome cut = decode(input, piece, limits, false);
  if (!agree(whole, cut)) fail();
  return 0;
}
