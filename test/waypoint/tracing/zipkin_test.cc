// Zipkin v2 JSON: a golden encoding, its validity as JSON, and the request tags Envoy and Istio
// put on a span.
#include <catch2/catch.hpp>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "waypoint/tracing/zipkin.h"

namespace ambit::waypoint::tracing {
namespace {

Span serverSpan() {
  Span span;
  span.trace_id = {0x4bf92f3577b34da6, 0xa3ce929d0e0e4736};
  span.id = 0x1234;
  span.parent_id = 0x00f067aa0ba902b7;
  span.name = "my-service.demo.svc.cluster.local:80/*";
  span.kind = SpanKind::kServer;
  span.timestamp_us = 1'700'000'000'123'456;
  span.duration_us = 2'500;
  span.local_endpoint = {"my-service-waypoint.demo", "10.244.1.7", "", 0};
  span.tags = {{"http.method", "GET"}, {"http.status_code", "200"}};
  return span;
}

Span clientSpan() {
  Span span;
  span.trace_id = {0, 0x77};
  span.id = 0x88;
  span.name = "outbound";
  span.kind = SpanKind::kClient;
  span.timestamp_us = 5;
  span.debug = true;
  span.local_endpoint = {"waypoint.demo", "", "", 0};
  span.remote_endpoint = Endpoint{"", "10.244.2.9", "fd00::9", 8080};
  return span;
}

TEST_CASE("Zipkin v2 JSON golden encoding") {
  const std::string expected =
      R"([{"traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "parentId": "00f067aa0ba902b7", )"
      R"("id": "0000000000001234", "kind": "SERVER", )"
      R"("name": "my-service.demo.svc.cluster.local:80/*", "timestamp": 1700000000123456, )"
      R"("duration": 2500, )"
      R"("localEndpoint": {"serviceName": "my-service-waypoint.demo", "ipv4": "10.244.1.7"}, )"
      R"("tags": {"http.method": "GET", "http.status_code": "200"}}, )"
      R"({"traceId": "0000000000000077", "id": "0000000000000088", "kind": "CLIENT", )"
      R"("name": "outbound", "timestamp": 5, "debug": true, )"
      R"("localEndpoint": {"serviceName": "waypoint.demo"}, )"
      R"("remoteEndpoint": {"ipv4": "10.244.2.9", "ipv6": "fd00::9", "port": 8080}}])";
  CHECK(encodeZipkinSpans({serverSpan(), clientSpan()}) == expected);
  CHECK(encodeZipkinSpans({}) == "[]");
}

TEST_CASE("the encoding is JSON with the span's fields") {
  Span span = serverSpan();
  span.tags["user_agent"] = "curl/8 \"quoted\"\n\\";
  const std::string json = encodeZipkinSpans({span, clientSpan()});
  google::protobuf::ListValue list;
  INFO(json);
  REQUIRE(google::protobuf::util::JsonStringToMessage(json, &list).ok());
  REQUIRE(list.values_size() == 2);
  const auto& fields = list.values(0).struct_value().fields();
  CHECK(fields.at("traceId").string_value() == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(fields.at("kind").string_value() == "SERVER");
  CHECK(fields.at("duration").number_value() == 2500);
  const auto& tags = fields.at("tags").struct_value().fields();
  CHECK(tags.at("user_agent").string_value() == "curl/8 \"quoted\"\n\\");
}

TEST_CASE("request tags") {
  RequestTags tags;
  tags.method = "POST";
  tags.url = "http://my-service.demo:80/orders";
  tags.protocol = "HTTP/1.1";
  tags.status = 201;
  tags.response_flags = "-";
  tags.upstream_cluster = "outbound|80|v1|my-service.demo.svc.cluster.local";
  tags.node_id = "waypoint~10.244.1.7~waypoint-5d9f.demo~demo.svc.cluster.local";
  tags.request_id = "4f1c";
  tags.canonical_service = "waypoint";
  tags.namespace_ = "demo";
  tags.request_size = 12;
  tags.response_size = 0;

  SECTION("a success") {
    Span span;
    addRequestTags(tags, span);
    const std::map<std::string, std::string> expected = {
        {"component", "proxy"},
        {"http.method", "POST"},
        {"http.url", "http://my-service.demo:80/orders"},
        {"http.protocol", "HTTP/1.1"},
        {"http.status_code", "201"},
        {"response_flags", "-"},
        {"upstream_cluster", "outbound|80|v1|my-service.demo.svc.cluster.local"},
        {"node_id", "waypoint~10.244.1.7~waypoint-5d9f.demo~demo.svc.cluster.local"},
        {"guid:x-request-id", "4f1c"},
        {"istio.canonical_service", "waypoint"},
        {"istio.namespace", "demo"},
        {"request_size", "12"},
        {"response_size", "0"},
    };
    CHECK(span.tags == expected);
  }
  struct Case {
    int status;
    bool error;
  };
  for (const Case c : {Case{200, false}, Case{404, false}, Case{499, false}, Case{500, true},
                       Case{503, true}, Case{0, true}}) {
    SECTION("status " + std::to_string(c.status)) {
      tags.status = c.status;
      Span span;
      addRequestTags(tags, span);
      CHECK(span.tags.at("http.status_code") == std::to_string(c.status));
      CHECK(span.tags.count("error") == (c.error ? 1u : 0u));
      if (c.error) CHECK(span.tags.at("error") == "true");
    }
  }
}

}  // namespace
}  // namespace ambit::waypoint::tracing
