#include "control/debug/debug_endpoints.h"

#include <chrono>

#include "core/json/json_writer.h"
#include "core/metrics/registry.h"

namespace ambit::control::debug {
namespace {

std::string timeText(const xds::WallTime& t) {
  if (t.time_since_epoch().count() == 0) return "";
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch());
  return std::to_string(seconds.count());
}

std::string callerText(const std::optional<auth::Caller>& caller) {
  if (!caller) return "";
  return caller->kind == auth::Caller::Kind::kNodeAgent ? "node " + caller->node
                                                        : "waypoint " + caller->identity;
}

}  // namespace

void DebugEndpoints::install(http::AdminServer& server) {
  const char* kJson = "application/json";
  server.handle("/ready", [this](const http::Request&) {
    return ready_ ? http::Response{200, "text/plain", "ready\n"}
                  : http::Response{503, "text/plain", "not ready: no configuration served yet\n"};
  });
  server.handle("/debug/syncz", [this, kJson](const http::Request&) {
    return http::Response{200, kJson, syncz()};
  });
  server.handle("/debug/configz", [this, kJson](const http::Request&) {
    return http::Response{200, kJson, configz()};
  });
  server.handle("/metrics", [this](const http::Request&) {
    return http::Response{200, "text/plain; version=0.0.4", metrics()};
  });
}

void DebugEndpoints::setState(source::ConfigStatePtr state) {
  std::lock_guard<std::mutex> lock(mu_);
  state_ = std::move(state);
}

source::ConfigStatePtr DebugEndpoints::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

std::string DebugEndpoints::syncz() const {
  json::Writer w;
  w.beginArray();
  for (const xds::ClientSyncStatus& client : ads_.syncStatus()) {
    w.beginObject()
        .field("stream", client.stream_id)
        .field("node_id", client.node_id)
        .field("caller", callerText(client.caller))
        .field("peer", client.peer)
        .field("connected_since", timeText(client.connected_since));
    w.key("types").beginArray();
    for (const xds::TypeSyncStatus& t : client.types) {
      w.beginObject()
          .field("type_url", t.type_url)
          .field("known_type", t.known_type)
          .field("wildcard", t.wildcard)
          .field("subscribed", static_cast<uint64_t>(t.names.size()))
          .field("resources_held", static_cast<uint64_t>(t.resources_held))
          .field("sent_version", t.sent_version)
          .field("sent_nonce", t.sent_nonce)
          .field("acked_version", t.acked_version)
          .field("acked_nonce", t.acked_nonce)
          .field("pending_nonce", t.pending_nonce)
          .field("nacks", t.nacks);
      if (t.last_nack) {
        w.key("last_nack")
            .beginObject()
            .field("nonce", t.last_nack->nonce)
            .field("code", t.last_nack->code)
            .field("message", t.last_nack->message)
            .field("time", timeText(t.last_nack->time))
            .endObject();
      }
      w.endObject();
    }
    w.endArray().endObject();
  }
  w.endArray();
  return w.str() + "\n";
}

std::string DebugEndpoints::configz() const {
  const source::ConfigStatePtr current = state();
  json::Writer w;
  w.beginObject();
  w.field("generation", current ? current->generation : 0);
  w.field("objects_in_force", static_cast<uint64_t>(current ? current->objects.size() : 0));
  w.key("objects").beginArray();
  if (current) {
    for (const source::ObjectStatus& s : current->statuses) {
      w.beginObject()
          .field("kind", s.object.kind)
          .field("namespace", s.object.namespace_)
          .field("name", s.object.name)
          .field("file", s.origin.file)
          .field("line", s.origin.line)
          .field("status",
                 s.accepted
                     ? "Accepted"
                     : (s.previous_in_force ? "Rejected (previous version in force)" : "Rejected"));
      w.key("findings").beginArray();
      for (const config::Diagnostic& d : s.findings) w.value(d.format());
      w.endArray().endObject();
    }
  }
  w.endArray().endObject();
  return w.str() + "\n";
}

std::string DebugEndpoints::metrics() const {
  // Built per scrape from the components' own counters, so there is one source of truth.
  metrics::Registry r;
  const xds::AdsCounters ads = ads_.counters();
  r.gauge("ambit_control_xds_clients", "Connected Delta ADS streams.")
      .set(static_cast<int64_t>(ads.connected_clients));
  r.counter("ambit_control_xds_streams_total", "Delta ADS streams accepted.")
      .inc(ads.streams_total);
  r.counter("ambit_control_xds_pushes_total", "Configuration snapshots pushed.").inc(ads.pushes);
  r.counter("ambit_control_xds_responses_total", "DeltaDiscoveryResponses written.")
      .inc(ads.responses);
  r.counter("ambit_control_xds_nacks_total", "Responses rejected by clients.").inc(ads.nacks);
  r.counter("ambit_control_xds_unknown_type_requests_total", "Requests for unknown type URLs.")
      .inc(ads.unknown_type_requests);
  r.counter("ambit_control_xds_invalid_requests_total", "Streams ended for malformed requests.")
      .inc(ads.invalid_requests);
  r.counter("ambit_control_xds_auth_failures_total", "Streams refused for authentication.")
      .inc(ads.auth_failures);
  r.counter("ambit_control_xds_write_timeouts_total", "Clients disconnected for not reading.")
      .inc(ads.write_timeouts);
  r.gauge("ambit_control_xds_push_latency_last_ms", "Latency of the last push to all clients.")
      .set(static_cast<int64_t>(ads.push_latency.last_ms));
  r.gauge("ambit_control_xds_push_latency_max_ms", "Highest push latency to all clients.")
      .set(static_cast<int64_t>(ads.push_latency.max_ms));
  r.counter("ambit_control_certificates_signed_total", "Workload certificates signed.")
      .inc(ca_metrics_.signedCount());
  for (size_t i = 0; i < ca::CaMetrics::kRefusalCount; ++i) {
    const auto reason = static_cast<ca::CaMetrics::Refusal>(i);
    r.counter("ambit_control_certificates_refused_total", "Certificate requests refused.",
              {{"reason", ca::CaMetrics::label(reason)}})
        .inc(ca_metrics_.refusedCount(reason));
  }
  const source::ConfigStatePtr current = state();
  uint64_t rejected = 0;
  if (current) {
    for (const source::ObjectStatus& s : current->statuses) rejected += s.accepted ? 0 : 1;
  }
  r.gauge("ambit_control_config_objects", "Configuration objects in force.")
      .set(current ? static_cast<int64_t>(current->objects.size()) : 0);
  r.gauge("ambit_control_config_rejected", "Configuration objects rejected.")
      .set(static_cast<int64_t>(rejected));
  return r.render();
}

}  // namespace ambit::control::debug
