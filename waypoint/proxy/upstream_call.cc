#include "waypoint/proxy/upstream_call.h"

#include <vector>

#include <absl/strings/str_cat.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include "agent/identity/identities_on_node.h"
#include "core/hbone/authority.h"
#include "core/log.h"

namespace ambit::waypoint {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr size_t kReadSize = 16 * 1024;

std::string endpointKey(const UpstreamEndpoint& endpoint) {
  return absl::StrCat(endpoint.workload->uid(), "|", endpoint.address.port());
}

// Reads one response from an attached tunnel, until `deadline`.
asio::awaitable<AttemptResult> readResponse(const agent::Tunnel& tunnel, const std::string& method,
                                            Clock::time_point deadline, const Http1Limits& limits,
                                            bool& got_bytes) {
  AttemptResult result;
  Http1ResponseDecoder decoder(method, limits);
  asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
  bool timed_out = false;
  timer.async_wait([&timed_out, &tunnel](boost::system::error_code ec) {
    if (ec) return;
    timed_out = true;
    tunnel.connection->abortChannel(tunnel.stream);
  });
  std::vector<uint8_t> buffer(kReadSize);
  std::string pending;
  for (;;) {
    absl::StatusOr<size_t> n = co_await tunnel.connection->readSome(tunnel.stream, buffer);
    if (!n.ok()) {
      result.outcome =
          timed_out ? AttemptResult::Outcome::kTimeout : AttemptResult::Outcome::kReset;
      result.detail = timed_out ? "upstream request timeout" : std::string(n.status().message());
      break;
    }
    if (*n == 0) {
      if (decoder.finishOnEof() == Http1DecodeState::kComplete) {
        result.outcome = AttemptResult::Outcome::kResponse;
        result.response = decoder.takeResponse(method);
      } else {
        result.outcome =
            got_bytes ? AttemptResult::Outcome::kBadResponse : AttemptResult::Outcome::kReset;
        result.detail = got_bytes ? decoder.error().reason : "upstream closed before responding";
      }
      break;
    }
    got_bytes = true;
    pending.append(reinterpret_cast<const char*>(buffer.data()), *n);
    bool done = false;
    while (!pending.empty() && !done) {
      const size_t used = decoder.feed(pending);
      pending.erase(0, used);
      if (decoder.state() == Http1DecodeState::kError) {
        result.outcome = AttemptResult::Outcome::kBadResponse;
        result.detail = decoder.error().reason;
        done = true;
      } else if (decoder.state() == Http1DecodeState::kComplete) {
        HttpResponse response = decoder.takeResponse(method);
        if (response.status >= 100 && response.status < 200) continue;  // interim: read on
        result.outcome = AttemptResult::Outcome::kResponse;
        result.response = std::move(response);
        done = true;
      } else if (used == 0) {
        break;
      }
    }
    if (done) break;
  }
  timer.cancel();
  co_return result;
}

}  // namespace

UpstreamTunnels::~UpstreamTunnels() {
  // Idle tunnels ended a response cleanly: they end with END_STREAM, not a reset.
  for (auto& [key, tunnel] : idle_) tunnel.connection->finishChannel(tunnel.stream);
}

std::optional<agent::Tunnel> UpstreamTunnels::take(const std::string& key) {
  auto it = idle_.find(key);
  if (it == idle_.end()) return std::nullopt;
  agent::Tunnel tunnel = it->second;
  idle_.erase(it);
  if (tunnel.connection->closed()) {
    tunnel.connection->releaseChannel(tunnel.stream);
    return std::nullopt;
  }
  return tunnel;
}

void UpstreamTunnels::keep(const std::string& key, agent::Tunnel tunnel) {
  auto it = idle_.find(key);
  if (it != idle_.end()) {
    it->second.connection->finishChannel(it->second.stream);
    it->second = tunnel;
  } else {
    idle_.emplace(key, tunnel);
  }
}

asio::awaitable<absl::StatusOr<agent::Tunnel>> openTunnel(agent::HbonePool& pool,
                                                          const UpstreamEndpoint& endpoint,
                                                          const std::string& source) {
  absl::StatusOr<tls::SpiffeId> identity =
      agent::workloadIdentity(*endpoint.workload, agent::kDefaultTrustDomain);
  if (!identity.ok()) co_return identity.status();
  agent::TunnelTarget target;
  target.hbone_endpoint = tcp::endpoint(endpoint.address.address(), 15008);
  target.identity = *identity;
  target.authority =
      hbone::formatAuthority(endpoint.address.address().to_string(), endpoint.address.port());
  if (!source.empty()) target.headers.emplace_back("forwarded", absl::StrCat("for=", source));
  absl::StatusOr<agent::Tunnel> opened = co_await pool.open(target);
  if (opened.ok()) opened->connection->attachChannel(opened->stream);
  co_return opened;
}

asio::awaitable<AttemptResult> attemptRequest(agent::HbonePool& pool, UpstreamTunnels& tunnels,
                                              const UpstreamEndpoint& endpoint,
                                              const std::string& encoded, const std::string& method,
                                              const std::string& source, Clock::time_point deadline,
                                              const Http1Limits& limits) {
  AttemptResult result;
  const std::string key = endpointKey(endpoint);
  // An idle tunnel may have been closed by the app meanwhile: a failure on it before any byte of
  // a response is tried once more on a new tunnel, as it is no failure of this request.
  for (int round = 0; round < 2; ++round) {
    std::optional<agent::Tunnel> tunnel = round == 0 ? tunnels.take(key) : std::nullopt;
    const bool reused = tunnel.has_value();
    if (!tunnel) {
      absl::StatusOr<agent::Tunnel> opened = co_await openTunnel(pool, endpoint, source);
      if (!opened.ok()) {
        result.outcome = AttemptResult::Outcome::kConnectFailure;
        result.detail = std::string(opened.status().message());
        co_return result;
      }
      tunnel = *opened;
    }
    absl::Status written = co_await tunnel->connection->writeAll(
        tunnel->stream,
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(encoded.data()), encoded.size()));
    bool got_bytes = false;
    if (written.ok()) {
      result = co_await readResponse(*tunnel, method, deadline, limits, got_bytes);
    } else {
      result.outcome = AttemptResult::Outcome::kReset;
      result.detail = std::string(written.message());
    }
    const bool reusable = result.outcome == AttemptResult::Outcome::kResponse &&
                          keepAlive(result.response) && !tunnel->connection->closed();
    if (reusable) {
      tunnels.keep(key, *tunnel);
    } else if (result.outcome == AttemptResult::Outcome::kResponse) {
      tunnel->connection->finishChannel(tunnel->stream);
    } else {
      tunnel->connection->releaseChannel(tunnel->stream);
    }
    if (reused && !got_bytes && result.outcome == AttemptResult::Outcome::kReset) continue;
    break;
  }
  co_return result;
}

asio::awaitable<void> mirrorRequest(agent::HbonePool& pool, UpstreamEndpoint endpoint,
                                    std::string encoded, std::string method, std::string source,
                                    Http1Limits limits) {
  constexpr std::chrono::seconds kMirrorTimeout{10};
  UpstreamTunnels tunnels;  // the mirror's own: its tunnel ends with it
  const AttemptResult result = co_await attemptRequest(
      pool, tunnels, endpoint, encoded, method, source, Clock::now() + kMirrorTimeout, limits);
  if (result.outcome != AttemptResult::Outcome::kResponse) {
    log::get("waypoint")->debug("mirror to {}: {}", endpoint.workload->name(), result.detail);
  }
}

}  // namespace ambit::waypoint
