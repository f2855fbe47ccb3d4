#include "waypoint/proxy/http_session.h"

#include <chrono>
#include <set>
#include <vector>

#include <absl/strings/ascii.h>
#include <absl/strings/str_cat.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "agent/identity/identities_on_node.h"
#include "core/log.h"
#include "waypoint/http/http1_codec.h"
#include "waypoint/http/http2_server.h"
#include "waypoint/proxy/endpoints.h"
#include "waypoint/proxy/request_security.h"
#include "waypoint/proxy/request_tracing.h"
#include "waypoint/proxy/retry.h"
#include "waypoint/proxy/session_support.h"
#include "waypoint/proxy/upstream_call.h"
#include "waypoint/route/protocol.h"
#include "waypoint/route/route_decision.h"

namespace ambit::waypoint {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

constexpr size_t kReadSize = 16 * 1024;
// How long sniffing waits for the client's first bytes before carrying the stream as TCP.
constexpr std::chrono::seconds kSniffTimeout{1};
// Without a route timeout a request may wait this long for its response (Envoy's stream idle
// timeout), so a stuck endpoint cannot hold a client forever.
constexpr std::chrono::minutes kNoRouteTimeout{5};

void applyHeaderOps(HttpHeaders& headers, const std::vector<HeaderOp>& ops) {
  for (const HeaderOp& op : ops) {
    switch (op.kind) {
      case HeaderOp::Kind::kRemove:
        headers.remove(op.name);
        break;
      case HeaderOp::Kind::kSet:
        headers.set(op.name, op.value);
        break;
      case HeaderOp::Kind::kAdd:
        headers.add(op.name, op.value);
        break;
    }
  }
}

// The outcome of one request, for the reply, the metrics and the access log.
struct Exchange {
  HttpResponse response;
  std::string flags;  // Envoy's response flags, "-" when none
  std::string detail;
  std::string route;  // "demo/my-service route 0", "default"
  std::optional<UpstreamEndpoint> chosen;
  int attempts = 0;
  // The calling workload, looked up once on the request's snapshot; null when unknown.
  agent::Snapshot::WorkloadPtr source;
  // The request's snapshot, kept to the end of the request (the trace's settings live in it).
  std::shared_ptr<const WaypointSnapshot> snapshot;
  std::optional<ActiveTrace> trace;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
};

void addFlag(std::string& flags, std::string_view flag) {
  if (flags.empty() || flags == "-") {
    flags = std::string(flag);
  } else {
    flags.append(",").append(flag);
  }
}

void localReply(Exchange& exchange, int status, std::string_view flag, std::string detail) {
  exchange.response = simpleResponse(status, absl::StrCat(detail, "\n"));
  if (!flag.empty()) addFlag(exchange.flags, flag);
  exchange.detail = std::move(detail);
}

class Session {
 public:
  Session(HttpSessionContext& context, std::shared_ptr<agent::HboneConnection> downstream,
          int32_t stream, ServedDestination destination, Caller caller, const ConfigStore& config)
      : context_(context),
        downstream_(std::move(downstream)),
        stream_(stream),
        destination_(std::move(destination)),
        caller_(std::move(caller)),
        config_(config),
        limits_{context.options.max_header_bytes, context.options.max_body_bytes},
        decoder_(limits_) {}

  asio::awaitable<void> run() {
    StreamProtocol protocol = protocolOf(destination_.protocol);
    if (protocol == StreamProtocol::kSniff) {
      protocol = co_await sniff();
    }
    if (protocol == StreamProtocol::kTcp) {
      co_await relayTcp(context_, downstream_, stream_, destination_, caller_, config_,
                        std::move(pending_));
      co_return;
    }
    if (protocol == StreamProtocol::kHttp2) {
      co_await runHttp2();
      co_return;
    }
    for (;;) {
      const bool more = co_await readRequest();
      if (decoder_.state() == Http1DecodeState::kError) {
        const Http1Error error = decoder_.error();
        Exchange exchange;
        localReply(exchange, error.status, "", error.reason);
        HttpRequest partial = decoder_.request();
        co_await reply(partial, exchange, Clock::now(), error.close);
        if (error.close) break;
        decoder_.reset();
        continue;
      }
      if (decoder_.state() != Http1DecodeState::kComplete || !more) break;
      HttpRequest request = decoder_.takeRequest();
      const bool keep = keepAlive(request);
      Exchange exchange = co_await process(request);
      if (!co_await reply(request, exchange, exchange.start, !keep) || !keep) break;
    }
    downstream_->finishChannel(stream_);
  }

 private:
  // Reads until the first bytes tell HTTP/1.x or HTTP/2 from anything else; the bytes stay in
  // pending_. A client that sends nothing for a while is taken as TCP, so a protocol where the
  // server speaks first works on a port that declares no protocol.
  asio::awaitable<StreamProtocol> sniff() {
    const Clock::time_point deadline = Clock::now() + kSniffTimeout;
    for (;;) {
      switch (sniffHttp1(pending_)) {
        case SniffResult::kHttp1:
          co_return StreamProtocol::kHttp1;
        case SniffResult::kHttp2:
          co_return StreamProtocol::kHttp2;
        case SniffResult::kOther:
          co_return StreamProtocol::kTcp;
        case SniffResult::kNeedMore:
          break;
      }
      absl::StatusOr<size_t> n = co_await downstream_->readSome(stream_, buffer_, deadline);
      if (!n.ok() || *n == 0) co_return StreamProtocol::kTcp;  // the relay ends it as it ended
      pending_.append(reinterpret_cast<const char*>(buffer_.data()), *n);
    }
  }

  // HTTP/2 (cleartext, prior knowledge): a reader feeding the codec and starting one coroutine
  // per request, and a writer sending what the codec serializes. Ends when the client ends the
  // tunnel or breaks HTTP/2, after the requests in flight are answered.
  asio::awaitable<void> runHttp2() {
    Http2Limits limits;
    limits.max_header_list_size = static_cast<uint32_t>(context_.options.max_header_bytes);
    limits.max_body_bytes = context_.options.max_body_bytes;
    absl::StatusOr<std::unique_ptr<Http2ServerCodec>> codec = Http2ServerCodec::create(limits);
    if (!codec.ok()) {
      waypointLog()->warn("HTTP/2 session: {}", std::string(codec.status().message()));
      downstream_->releaseChannel(stream_);
      co_return;
    }
    h2_ = std::move(*codec);
    auto executor = co_await asio::this_coro::executor;
    asio::steady_timer reader_wake(executor, Clock::time_point::max());
    asio::steady_timer writer_wake(executor, Clock::time_point::max());
    h2_reader_wake_ = &reader_wake;
    h2_writer_wake_ = &writer_wake;
    bool writer_done = false;
    asio::co_spawn(executor, writeHttp2(&writer_done), asio::detached);
    bool clean = true;
    std::string_view first = pending_;  // the preface, read while sniffing
    for (;;) {
      if (!first.empty()) {
        clean = h2_->feed(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(first.data()),
                                                   first.size()))
                    .ok();
        first = {};
      } else {
        absl::StatusOr<size_t> n = co_await downstream_->readSome(stream_, buffer_);
        if (!n.ok() || *n == 0) {
          clean = n.ok();
          break;
        }
        clean = h2_->feed(std::span<const uint8_t>(buffer_.data(), *n)).ok();
      }
      for (auto& [id, request] : h2_->takeRequests()) {
        ++h2_in_flight_;
        asio::co_spawn(executor, serveHttp2Request(id, std::move(request)), asio::detached);
      }
      h2Notify();
      if (!clean || h2_->wantsClose()) break;
    }
    pending_.clear();
    while (h2_in_flight_ > 0) {
      co_await waitOn(reader_wake);
    }
    h2_->shutdown();
    h2_closing_ = true;
    h2Notify();
    while (!writer_done) {
      co_await waitOn(reader_wake);
    }
    if (clean) {
      downstream_->finishChannel(stream_);
    } else {
      downstream_->releaseChannel(stream_);
    }
  }

  asio::awaitable<void> serveHttp2Request(int32_t id, HttpRequest request) {
    Exchange exchange = co_await process(request);
    const absl::Status answered = h2_->respond(id, exchange.response, request.method == "HEAD");
    if (!answered.ok()) exchange.detail = std::string(answered.message());
    const double duration_ms =
        std::chrono::duration<double, std::milli>(Clock::now() - exchange.start).count();
    record(request, exchange, duration_ms);
    --h2_in_flight_;
    h2Notify();
  }

  // Something changed (a request answered, output queued, the writer done): both sides look.
  void h2Notify() {
    h2_reader_wake_->cancel();
    h2_writer_wake_->cancel();
  }

  asio::awaitable<void> writeHttp2(bool* done) {
    for (;;) {
      if (h2_->wantsWrite()) {
        const std::span<const uint8_t> out = h2_->pendingOutput();
        if (!out.empty()) {
          const absl::Status written = co_await downstream_->writeAll(stream_, out);
          if (!written.ok()) break;
          h2_->consumeOutput(out.size());
          continue;
        }
      }
      if (h2_closing_ && !h2_->wantsWrite()) break;
      co_await waitOn(*h2_writer_wake_);
    }
    *done = true;
    h2Notify();
  }

  static asio::awaitable<void> waitOn(asio::steady_timer& timer) {
    timer.expires_at(Clock::time_point::max());
    boost::system::error_code ignored;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }

  // Feeds the decoder until it holds a whole request or an error; false when the client ended the
  // tunnel (or it failed) first.
  asio::awaitable<bool> readRequest() {
    for (;;) {
      if (!pending_.empty()) {
        const size_t used = decoder_.feed(pending_);
        pending_.erase(0, used);
        if (decoder_.state() != Http1DecodeState::kNeedMore) co_return true;
        if (used > 0 && !pending_.empty()) continue;
      }
      absl::StatusOr<size_t> n = co_await downstream_->readSome(stream_, buffer_);
      if (!n.ok() || *n == 0) co_return false;
      pending_.append(reinterpret_cast<const char*>(buffer_.data()), *n);
    }
  }

  // Routes one request and carries it out (forwarded, redirected, answered locally); the caller
  // writes the response in its protocol. Requests of one HTTP/2 connection run concurrently, so
  // everything per request is local.
  asio::awaitable<Exchange> process(HttpRequest& request) {
    Exchange exchange;
    const Clock::time_point start = exchange.start;
    // The snapshot of this request: a config pushed meanwhile applies to the next one.
    const std::shared_ptr<const WaypointSnapshot> snapshot = config_.current();
    exchange.flags = "-";
    if (snapshot->routes == nullptr) {
      localReply(exchange, 503, "NC", "no routing config yet");
      co_return exchange;
    }
    // Hop-by-hop fields go first, so that a `Connection` option cannot remove what the security
    // step sets (a claim header) on the way to the endpoint.
    removeHopByHopHeaders(request.headers);
    std::vector<std::pair<std::string, std::string>> lower_headers;
    lower_headers.reserve(request.headers.size());
    for (const HttpHeader& h : request.headers) {
      lower_headers.emplace_back(absl::AsciiStrToLower(h.name), h.value);
    }
    const agent::Snapshot::WorkloadPtr source = sourceWorkload(*snapshot, caller_);
    exchange.source = source;
    const std::map<std::string, std::string>* source_labels =
        source != nullptr ? &snapshot->labelsOf(source->uid()) : nullptr;
    const SecurityOutcome security = checkRequestSecurity(
        *snapshot, securityPeer(source), request, lower_headers, context_.metrics.security(),
        std::chrono::duration_cast<std::chrono::seconds>(
            std::chrono::system_clock::now().time_since_epoch())
            .count());
    if (!security.pass) {
      exchange.route = "-";  // refused before any route was looked at
      localReply(exchange, security.status, "", security.body);
      exchange.detail = security.detail;
      for (const auto& [name, value] : security.response_headers) {
        exchange.response.headers.set(name, value);
      }
      co_return exchange;
    }
    exchange.snapshot = snapshot;
    exchange.trace = startTrace(
        snapshot->tracing != nullptr ? snapshot->tracing->forHost(destination_.host) : nullptr,
        lower_headers, request, context_.random);
    RequestView view;
    view.method = request.method;
    view.scheme = "http";
    view.authority = request.authority();
    view.path = request.target;
    view.headers = &lower_headers;
    view.port = destination_.port;
    view.source_namespace = source != nullptr ? std::string_view(source->namespace_())
                                              : std::string_view(caller_namespace_);
    view.source_labels = source_labels;
    const RouteDecision decision =
        decideRoute(*snapshot->routes, destination_.host, view, context_.random(), false);
    exchange.route = decision.rule != nullptr ? absl::StrCat(std::string(decision.virtual_service),
                                                             " route ", decision.route_index)
                     : decision.kind == RouteDecision::Kind::kNoRoute ? "none"
                                                                      : "default";
    switch (decision.kind) {
      case RouteDecision::Kind::kNoRoute:
        localReply(exchange, static_cast<int>(decision.status), RouteDecision::kNoRouteFlag,
                   decision.reason);
        break;
      case RouteDecision::Kind::kRedirect:
        exchange.response = simpleResponse(static_cast<int>(decision.redirect.status), "");
        exchange.response.headers.set("location", decision.redirect.location());
        break;
      case RouteDecision::Kind::kDirectResponse:
        exchange.response = simpleResponse(static_cast<int>(decision.direct_response.status),
                                           decision.direct_response.body);
        break;
      case RouteDecision::Kind::kForward:
        co_await forward(request, decision, *snapshot, exchange, start);
        break;
    }
    if (decision.headers != nullptr)
      applyHeaderOps(exchange.response.headers, decision.headers->response);
    co_return exchange;
  }

  SecurityPeer securityPeer(const agent::Snapshot::WorkloadPtr& source) const {
    SecurityPeer peer;
    std::string_view identity = caller_.identity;
    if (identity.starts_with("spiffe://")) peer.principal = identity.substr(9);
    // The namespace is the certificate's; the address only when it is verified to be the
    // caller's (sourceWorkload), else unknown, so address rules fail closed.
    peer.source_namespace = caller_namespace_;
    if (source != nullptr) peer.source_ip = caller_.address;
    peer.destination_ip = destination_.address;
    peer.destination_port = destination_.port;
    peer.service_host = destination_.host;
    return peer;
  }

  asio::awaitable<void> forward(HttpRequest& request, const RouteDecision& decision,
                                const WaypointSnapshot& snapshot, Exchange& exchange,
                                Clock::time_point start) {
    const RoutePolicy& policy = *decision.policy;
    if (policy.delay && percentHit(policy.delay->percent, context_.random())) {
      asio::steady_timer timer(co_await asio::this_coro::executor,
                               std::chrono::milliseconds(policy.delay->delay_ms));
      boost::system::error_code ignored;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
      addFlag(exchange.flags, "DI");
    }
    if (policy.abort && policy.abort->http_status != 0 &&
        percentHit(policy.abort->percent, context_.random())) {
      localReply(exchange, static_cast<int>(policy.abort->http_status), "FI", "fault filter abort");
      co_return;
    }
    // The request as the endpoint gets it.
    removeHopByHopHeaders(request.headers);
    if (decision.headers != nullptr) applyHeaderOps(request.headers, decision.headers->request);
    if (decision.path) request.target = *decision.path;
    if (decision.authority) request.headers.set("host", *decision.authority);
    if (!request.headers.has("host")) request.headers.set("host", destination_.host);
    const std::string encoded = encodeRequest(request);
    if (!policy.mirrors.empty()) {
      mirror(co_await asio::this_coro::executor, request, policy, snapshot);
    }

    const Clock::time_point deadline = policy.timeout_ms
                                           ? start + std::chrono::milliseconds(*policy.timeout_ms)
                                           : start + kNoRouteTimeout;
    const uint16_t port =
        decision.destination.port != 0 ? decision.destination.port : destination_.port;
    const TrafficPolicyView traffic = snapshot.routes->trafficPolicy(
        decision.destination.host, decision.destination.subset, port);
    const Balance balance = balanceOf(traffic.load_balancer);
    const OutlierSettings outlier_settings = OutlierSettings::fromProto(traffic.outlier_detection);
    const uint32_t tries = 1 + policy.retries.attempts;
    std::set<std::string> tried;
    AttemptResult last;
    for (uint32_t attempt = 0; attempt < tries; ++attempt) {
      const OutlierFilter outliers{&context_.outliers, &outlier_settings, Clock::now()};
      absl::StatusOr<UpstreamEndpoint> endpoint =
          chooseEndpoint(snapshot, decision.destination, destination_.port, tried, balance,
                         context_.random(), context_.picker, &outliers, &context_.active);
      if (!endpoint.ok()) {
        const bool no_service = absl::IsNotFound(endpoint.status());
        localReply(exchange, 503, no_service ? "NR" : "UH",
                   std::string(endpoint.status().message()));
        co_return;
      }
      tried.insert(endpoint->workload->uid());
      if (!snapshot.rate_limits->empty()) {
        const LocalRateLimitDecision limit =
            snapshot.rate_limits->check(endpoint->workload->uid(), endpoint->workload->namespace_(),
                                        snapshot.labelsOf(endpoint->workload->uid()), Clock::now(),
                                        context_.random(), context_.random());
        if (limit.enforced) {
          localReply(exchange, limit.status, kLocalRateLimitedFlag, kLocalRateLimitedBody);
          co_return;
        }
      }
      exchange.chosen = *endpoint;
      ++exchange.attempts;
      Clock::time_point attempt_deadline = deadline;
      if (policy.retries.per_try_timeout_ms) {
        attempt_deadline = std::min(
            deadline, Clock::now() + std::chrono::milliseconds(*policy.retries.per_try_timeout_ms));
      }
      const std::string uid = endpoint->workload->uid();
      ++context_.active[uid];
      last = co_await attemptRequest(context_.pool, tunnels_, *endpoint, encoded, request.method,
                                     caller_.address, attempt_deadline, limits_);
      if (--context_.active[uid] == 0) context_.active.erase(uid);
      if (outlier_settings.enabled)
        recordOutcome(context_.outliers, *endpoint, last, outlier_settings);
      const bool route_timeout = Clock::now() >= deadline;
      if (route_timeout || !shouldRetry(policy.retries, last) || attempt + 1 == tries) {
        if (route_timeout && last.outcome != AttemptResult::Outcome::kResponse) {
          localReply(exchange, 504, "UT", "upstream request timeout");
          co_return;
        }
        break;
      }
      waypointLog()->debug("retrying {} {} after attempt {}: {}", request.method, request.target,
                           attempt + 1, last.detail);
    }
    if (last.outcome == AttemptResult::Outcome::kResponse) {
      exchange.response = std::move(last.response);
      if (exchange.attempts > 1 && shouldRetry(policy.retries, last))
        addFlag(exchange.flags, "URX");
      co_return;
    }
    const FailureReply failure = failureReply(last.outcome);
    if (exchange.attempts > 1) addFlag(exchange.flags, "URX");
    localReply(exchange, failure.status, failure.flag, last.detail);
  }

  // Shadows the request to each mirror that draws it, with "-shadow" added to its host as
  // Envoy does; answers are dropped and failures only logged.
  void mirror(const asio::any_io_executor& executor, const HttpRequest& request,
              const RoutePolicy& policy, const WaypointSnapshot& snapshot) {
    for (const MirrorPolicy& m : policy.mirrors) {
      if (!percentHit(m.percent, context_.random())) continue;
      absl::StatusOr<UpstreamEndpoint> endpoint =
          chooseEndpoint(snapshot, m.target, destination_.port, {}, Balance::kRoundRobin,
                         context_.random(), context_.picker);
      if (!endpoint.ok()) {
        waypointLog()->debug("mirror to {}: {}", m.target.host,
                             std::string(endpoint.status().message()));
        continue;
      }
      HttpRequest copy = request;
      const std::string host(copy.authority());
      const size_t colon = host.rfind(':');
      copy.headers.set("host", colon == std::string::npos || host.find(']') > colon
                                   ? host + "-shadow"
                                   : host.substr(0, colon) + "-shadow" + host.substr(colon));
      asio::co_spawn(executor,
                     mirrorRequest(context_.pool, *endpoint, encodeRequest(copy), copy.method,
                                   caller_.address, limits_),
                     asio::detached);
    }
  }

  asio::awaitable<bool> reply(const HttpRequest& request, Exchange& exchange,
                              Clock::time_point start, bool close) {
    const bool head = request.method == "HEAD";
    const std::string bytes = encodeResponse(exchange.response, head, close);
    absl::Status written = co_await downstream_->writeAll(
        stream_,
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
    const double duration_ms =
        std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    record(request, exchange, duration_ms);
    co_return written.ok();
  }

  void record(const HttpRequest& request, const Exchange& exchange, double duration_ms) {
    RequestLabels labels;
    labels.response_code = exchange.response.status;
    labels.response_flags = exchange.flags.empty() ? "-" : exchange.flags;
    if (!caller_namespace_.empty()) {  // the identity parsed
      labels.source_principal = caller_.identity;
      labels.source_workload_namespace = caller_namespace_;
    }
    if (const agent::Snapshot::WorkloadPtr& source = exchange.source) {
      labels.source_workload =
          source->workload_name().empty() ? source->name() : source->workload_name();
      labels.source_workload_namespace = source->namespace_();
      if (!source->canonical_name().empty()) labels.source_app = source->canonical_name();
      if (!source->canonical_revision().empty())
        labels.source_version = source->canonical_revision();
    }
    if (destination_.service != nullptr) {
      labels.destination_service = destination_.service->hostname();
      labels.destination_service_name = destination_.service->name();
      labels.destination_service_namespace = destination_.service->namespace_();
    }
    if (exchange.chosen) {
      const istio::workload::Workload& w = *exchange.chosen->workload;
      labels.destination_workload = w.workload_name().empty() ? w.name() : w.workload_name();
      labels.destination_workload_namespace = w.namespace_();
      absl::StatusOr<tls::SpiffeId> id = agent::workloadIdentity(w, agent::kDefaultTrustDomain);
      if (id.ok()) labels.destination_principal = id->toString();
      if (!w.canonical_name().empty()) labels.destination_app = w.canonical_name();
      if (!exchange.chosen->version.empty()) labels.destination_version = exchange.chosen->version;
    }
    // The Telemetry policy of the destination, from the request's snapshot; a request refused
    // before it took one (by its security check) reads the current one, and before any config
    // there are only the defaults.
    const std::shared_ptr<const WaypointSnapshot> snapshot =
        exchange.snapshot != nullptr ? exchange.snapshot : config_.current();
    const TelemetryPolicy* telemetry = snapshot != nullptr && snapshot->telemetry != nullptr
                                           ? &snapshot->telemetry->forHost(destination_.host)
                                           : nullptr;
    const std::string_view protocol =
        request.version == 20 ? "HTTP/2" : (request.version == 10 ? "HTTP/1.0" : "HTTP/1.1");
    RequestFacts facts;
    facts.host = request.authority();
    facts.method = request.method;
    facts.path = request.target;
    facts.protocol = protocol;
    facts.headers = &request.headers;
    facts.source_principal = caller_.identity;
    facts.destination_port = destination_.port;
    facts.response_code = exchange.response.status;
    context_.metrics.record(labels, duration_ms, request.body.size(), exchange.response.body.size(),
                            telemetry, &facts);
    if (exchange.trace) traceRequest(request, exchange, labels);
    if (telemetry != nullptr && !telemetry->access_log) return;
    // Envoy's default access-log fields, then Ambit's route and reason.
    accessLog()->info(
        "\"{} {} {}\" {} {} {} {} {:.0f} \"{}\" \"{}\" \"{}\" src.identity={} route=\"{}\" "
        "attempts={}{}{}",
        request.method, request.target, protocol, exchange.response.status, labels.response_flags,
        request.body.size(), exchange.response.body.size(), duration_ms,
        request.headers.get("user-agent").value_or("-"), request.authority(),
        exchange.chosen ? upstreamText(*exchange.chosen) : "-", caller_.identity, exchange.route,
        exchange.attempts, exchange.detail.empty() ? "" : " reason=\"",
        exchange.detail.empty() ? "" : absl::StrCat(exchange.detail, "\""));
  }

  void traceRequest(const HttpRequest& request, const Exchange& exchange,
                    const RequestLabels& labels) const {
    tracing::RequestTags tags;
    tags.method = request.method;
    tags.url = absl::StrCat("http://", std::string(request.authority()), request.target);
    tags.protocol =
        request.version == 20 ? "HTTP/2" : (request.version == 10 ? "HTTP/1.0" : "HTTP/1.1");
    tags.status = exchange.response.status;
    tags.response_flags = labels.response_flags;
    if (exchange.chosen) {
      tags.upstream_cluster = absl::StrCat("outbound|", destination_.port, "|",
                                           exchange.chosen->version, "|", destination_.host);
    }
    tags.node_id = absl::StrCat("waypoint~", waypoint_namespace_, "/", waypoint_name_);
    tags.request_id = std::string(request.headers.get("x-request-id").value_or(""));
    tags.user_agent = std::string(request.headers.get("user-agent").value_or(""));
    tags.peer_address = caller_.address;
    tags.canonical_service = waypoint_name_;
    tags.namespace_ = waypoint_namespace_;
    tags.request_size = request.body.size();
    tags.response_size = exchange.response.body.size();
    tracing::Endpoint local;
    local.service_name = absl::StrCat(waypoint_name_, ".", waypoint_namespace_);
    finishTrace(*exchange.trace,
                absl::StrCat(destination_.host.empty() ? destination_.address : destination_.host,
                             ":", destination_.port, "/*"),
                local, tags);
  }

  // The waypoint's namespace and name, from its identity ".../ns/<namespace>/sa/<name>".
  static std::pair<std::string, std::string> waypointOf(std::string_view identity) {
    const size_t ns = identity.find("/ns/");
    const size_t sa = ns == std::string_view::npos ? ns : identity.find("/sa/", ns + 4);
    if (sa == std::string_view::npos) return {"", std::string(identity)};
    return {std::string(identity.substr(ns + 4, sa - ns - 4)),
            std::string(identity.substr(sa + 4))};
  }

  HttpSessionContext& context_;
  std::shared_ptr<agent::HboneConnection> downstream_;
  const int32_t stream_;
  const ServedDestination destination_;
  const Caller caller_;
  const std::string caller_namespace_ = callerNamespace(caller_);
  const ConfigStore& config_;
  const std::string waypoint_namespace_ = waypointOf(context_.options.identity).first;
  const std::string waypoint_name_ = waypointOf(context_.options.identity).second;
  const Http1Limits limits_;
  Http1RequestDecoder decoder_;
  std::string pending_;
  std::vector<uint8_t> buffer_ = std::vector<uint8_t>(kReadSize);
  UpstreamTunnels tunnels_;
  // HTTP/2 only.
  std::unique_ptr<Http2ServerCodec> h2_;
  asio::steady_timer* h2_reader_wake_ = nullptr;  // the reader waiting for requests in flight
  asio::steady_timer* h2_writer_wake_ = nullptr;  // the writer waiting for output
  size_t h2_in_flight_ = 0;
  bool h2_closing_ = false;  // shut down: the writer ends once the output is written
};

}  // namespace

asio::awaitable<void> serveHttp(HttpSessionContext context,
                                std::shared_ptr<agent::HboneConnection> downstream, int32_t stream,
                                ServedDestination destination, Caller caller,
                                const ConfigStore& config) {
  Session session(context, std::move(downstream), stream, std::move(destination), std::move(caller),
                  config);
  co_await session.run();
}

}  // namespace ambit::waypoint
