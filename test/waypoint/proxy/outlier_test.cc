// Outlier detection as Envoy applies an Istio outlierDetection: the settings Istio asks for, the
// consecutive-error detectors, ejection times and their multiplier, maxEjectionPercent,
// minHealthPercent's panic, and Istio's circuit breaker example.
#include "waypoint/proxy/outlier.h"

#include <google/protobuf/text_format.h>
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "core/config/loader.h"

namespace ambit::waypoint {
namespace {

namespace net = istio::networking::v1alpha3;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Outcome = OutlierDetector::Outcome;
using TimePoint = OutlierDetector::TimePoint;

const TimePoint kStart = TimePoint() + std::chrono::hours(1);
const std::string kCluster = "outbound|80|v1|my-service.default.svc.cluster.local";

// The settings for an OutlierDetection in the text format of its proto.
OutlierSettings settings(const std::string& text) {
  net::OutlierDetection proto;
  INFO(text);
  REQUIRE(google::protobuf::TextFormat::ParseFromString(text, &proto));
  return OutlierSettings::fromProto(&proto);
}

// Records `outcome` `times` times for `uid` at `now`.
void repeat(OutlierDetector& detector, const std::string& uid, Outcome outcome, int times,
            TimePoint now, const OutlierSettings& s, size_t cluster_size) {
  for (int i = 0; i < times; ++i) detector.record(kCluster, uid, outcome, now, s, cluster_size);
}

TEST_CASE("outlier settings are what Istio asks of Envoy", "[outlier]") {
  SECTION("no outlierDetection: disabled") {
    const OutlierSettings s = OutlierSettings::fromProto(nullptr);
    CHECK_FALSE(s.enabled);
  }
  SECTION("an empty outlierDetection: Envoy's defaults, panic off") {
    const OutlierSettings s = settings("");
    CHECK(s.enabled);
    CHECK(s.consecutive_5xx == 5);
    CHECK(s.consecutive_gateway == 0);
    CHECK_FALSE(s.split_local_origin);
    CHECK(s.consecutive_local_origin == 0);
    CHECK(s.interval == seconds(10));
    CHECK(s.base_ejection_time == seconds(30));
    CHECK(s.max_ejection_time == seconds(300));
    CHECK(s.max_ejection_percent == 10);
    CHECK(s.min_health_percent == 0);
  }
  SECTION("explicit values") {
    const OutlierSettings s = settings(
        "consecutive_5xx_errors { value: 0 } consecutive_gateway_errors { value: 3 } "
        "interval { seconds: 1 } base_ejection_time { seconds: 600 } max_ejection_percent: 100 "
        "min_health_percent: 50");
    CHECK(s.consecutive_5xx == 0);
    CHECK(s.consecutive_gateway == 3);
    CHECK(s.interval == seconds(1));
    CHECK(s.base_ejection_time == seconds(600));
    CHECK(s.max_ejection_time == seconds(600));  // never below the base
    CHECK(s.max_ejection_percent == 100);
    CHECK(s.min_health_percent == 50);
  }
  SECTION("local-origin failures: Envoy's 5 once split, nothing without the split") {
    CHECK(settings("split_external_local_origin_errors: true").consecutive_local_origin == 5);
    CHECK(settings("split_external_local_origin_errors: true "
                   "consecutive_local_origin_failures { value: 2 }")
              .consecutive_local_origin == 2);
    CHECK(settings("consecutive_local_origin_failures { value: 2 }").consecutive_local_origin == 0);
  }
}

TEST_CASE("a response's status is its outcome", "[outlier]") {
  const std::vector<std::pair<int, Outcome>> cases = {
      {200, Outcome::kSuccess},      {404, Outcome::kSuccess},      {499, Outcome::kSuccess},
      {500, Outcome::k5xx},          {501, Outcome::k5xx},          {502, Outcome::kGatewayError},
      {503, Outcome::kGatewayError}, {504, Outcome::kGatewayError}, {599, Outcome::k5xx},
  };
  for (const auto& [status, outcome] : cases) {
    INFO(status);
    CHECK(OutlierDetector::outcomeOf(status) == outcome);
  }
}

struct CountCase {
  const char* name;
  const char* settings;                           // text format; nullptr: no outlierDetection
  std::vector<std::pair<Outcome, int>> outcomes;  // in order, each repeated
  bool ejected;
};

TEST_CASE("consecutive errors eject at the threshold and not before", "[outlier]") {
  constexpr auto k5xx = Outcome::k5xx;
  constexpr auto kGateway = Outcome::kGatewayError;
  constexpr auto kLocal = Outcome::kLocalOriginFailure;
  constexpr auto kOk = Outcome::kSuccess;
  const char* gateway3 =
      "consecutive_5xx_errors { value: 0 } consecutive_gateway_errors { value: 3 }";
  const char* split3 =
      "split_external_local_origin_errors: true consecutive_local_origin_failures { value: 3 }";
  const std::vector<CountCase> cases = {
      {"four 5xx stay below the default 5", "", {{k5xx, 4}}, false},
      {"the fifth 5xx ejects", "", {{k5xx, 5}}, true},
      {"a success resets the count", "", {{k5xx, 3}, {kOk, 1}, {k5xx, 4}}, false},
      {"after a success, five more eject", "", {{k5xx, 4}, {kOk, 1}, {k5xx, 5}}, true},
      {"gateway errors are 5xx too", "", {{kGateway, 2}, {k5xx, 3}}, true},
      {"a custom 5xx threshold", "consecutive_5xx_errors { value: 2 }", {{k5xx, 2}}, true},
      {"consecutive5xxErrors 0 turns the detector off",
       "consecutive_5xx_errors { value: 0 }",
       {{k5xx, 50}},
       false},
      {"three gateway errors eject", gateway3, {{kGateway, 3}}, true},
      {"a 500 resets the gateway count",
       gateway3,
       {{kGateway, 2}, {k5xx, 1}, {kGateway, 2}},
       false},
      {"plain 5xx never trip the gateway detector", gateway3, {{k5xx, 20}}, false},
      {"local-origin failures count as 5xx", "", {{kLocal, 3}, {k5xx, 2}}, true},
      {"local-origin failures count as gateway errors", gateway3, {{kLocal, 3}}, true},
      {"split: local-origin failures have their own threshold", split3, {{kLocal, 3}}, true},
      {"split: a response resets the local-origin count",
       split3,
       {{kLocal, 2}, {k5xx, 1}, {kLocal, 2}},
       false},
      {"split: local-origin failures are not 5xx", split3, {{k5xx, 4}, {kLocal, 2}}, false},
      {"split: 5xx still count", split3, {{k5xx, 4}, {kLocal, 1}, {k5xx, 1}}, true},
      {"no outlierDetection never ejects", nullptr, {{k5xx, 100}, {kLocal, 100}}, false},
  };
  for (const CountCase& c : cases) {
    SECTION(c.name) {
      const OutlierSettings s =
          c.settings == nullptr ? OutlierSettings::fromProto(nullptr)
                                : settings(std::string(c.settings) + " max_ejection_percent: 100");
      OutlierDetector detector;
      for (const auto& [outcome, times] : c.outcomes) {
        repeat(detector, "a", outcome, times, kStart, s, 1);
      }
      CHECK(detector.ejected(kCluster, "a", kStart) == c.ejected);
      CHECK(detector.ejectionsTotal() == (c.ejected ? 1 : 0));
      CHECK(detector.ejectionCount(kCluster, "a") == (c.ejected ? 1 : 0));
    }
  }
}

TEST_CASE("an ejection lasts base_ejection_time times the ejections, within max", "[outlier]") {
  const OutlierSettings s = settings(
      "interval { seconds: 10 } base_ejection_time { seconds: 30 } max_ejection_percent: 100");
  OutlierDetector detector;
  repeat(detector, "a", Outcome::k5xx, 5, kStart, s, 1);
  CHECK(detector.ejected(kCluster, "a", kStart));
  CHECK(detector.ejected(kCluster, "a", kStart + seconds(30) - milliseconds(1)));
  CHECK_FALSE(detector.ejected(kCluster, "a", kStart + seconds(30)));

  SECTION("a second ejection within an interval of the return lasts twice as long") {
    const TimePoint again = kStart + seconds(35);
    repeat(detector, "a", Outcome::k5xx, 5, again, s, 1);
    CHECK(detector.ejected(kCluster, "a", again + seconds(60) - milliseconds(1)));
    CHECK_FALSE(detector.ejected(kCluster, "a", again + seconds(60)));
    CHECK(detector.ejectionCount(kCluster, "a") == 2);
    CHECK(detector.ejectionsTotal() == 2);
  }
  SECTION("an interval back in service takes one ejection off the multiplier") {
    const TimePoint again = kStart + seconds(40);
    repeat(detector, "a", Outcome::k5xx, 5, again, s, 1);
    CHECK_FALSE(detector.ejected(kCluster, "a", again + seconds(30)));
  }
  SECTION("errors while ejected do not count toward the next ejection") {
    // The checks above have taken `detector` past the ejection; this one stays inside it.
    OutlierDetector inside;
    repeat(inside, "a", Outcome::k5xx, 5, kStart, s, 1);
    repeat(inside, "a", Outcome::k5xx, 3, kStart + seconds(1), s, 1);
    const TimePoint back = kStart + seconds(31);
    repeat(inside, "a", Outcome::k5xx, 4, back, s, 1);
    CHECK_FALSE(inside.ejected(kCluster, "a", back));
    repeat(inside, "a", Outcome::k5xx, 1, back, s, 1);
    CHECK(inside.ejected(kCluster, "a", back));
  }
  SECTION("ejections stop growing at max_ejection_time, 300s") {
    TimePoint now = kStart + seconds(30);
    std::vector<int64_t> lengths;
    for (int i = 0; i < 12; ++i) {
      repeat(detector, "a", Outcome::k5xx, 5, now, s, 1);
      int64_t length = 0;
      while (detector.ejected(kCluster, "a", now + seconds(length))) length += 30;
      lengths.push_back(length);
      now += seconds(length);
    }
    CHECK(lengths ==
          std::vector<int64_t>{60, 90, 120, 150, 180, 210, 240, 270, 300, 300, 300, 300});
  }
}

TEST_CASE("maxEjectionPercent caps the share of a cluster ejected", "[outlier]") {
  const std::vector<std::string> uids = {"a", "b", "c"};
  SECTION("34% of 3 endpoints: one at a time") {
    const OutlierSettings s = settings("max_ejection_percent: 34");
    OutlierDetector detector;
    repeat(detector, "a", Outcome::k5xx, 5, kStart, s, 3);
    repeat(detector, "b", Outcome::k5xx, 5, kStart, s, 3);
    CHECK(detector.ejected(kCluster, "a", kStart));
    CHECK_FALSE(detector.ejected(kCluster, "b", kStart));
    CHECK(detector.ejectionsOverflow() == 1);
    CHECK(detector.ejectedCount(kCluster, kStart) == 1);
    // The refused ejection started b's count again; once a is back, b can go.
    const TimePoint later = kStart + seconds(30);
    repeat(detector, "b", Outcome::k5xx, 4, later, s, 3);
    CHECK_FALSE(detector.ejected(kCluster, "b", later));
    repeat(detector, "b", Outcome::k5xx, 1, later, s, 3);
    CHECK(detector.ejected(kCluster, "b", later));
  }
  SECTION("the default 10% ejects nothing from a cluster of fewer than 10") {
    const OutlierSettings s = settings("");
    OutlierDetector detector;
    repeat(detector, "a", Outcome::k5xx, 5, kStart, s, 3);
    CHECK_FALSE(detector.ejected(kCluster, "a", kStart));
    CHECK(detector.ejectionsOverflow() == 1);
    repeat(detector, "a", Outcome::k5xx, 5, kStart, s, 10);
    CHECK(detector.ejected(kCluster, "a", kStart));
  }
  SECTION("forgotten endpoints no longer count") {
    const OutlierSettings s = settings("max_ejection_percent: 34");
    OutlierDetector detector;
    repeat(detector, "a", Outcome::k5xx, 5, kStart, s, 3);
    detector.retain(kCluster, std::vector<std::string>{"b", "c", "d"});
    CHECK(detector.ejectionCount(kCluster, "a") == 0);
    repeat(detector, "b", Outcome::k5xx, 5, kStart, s, 3);
    CHECK(detector.ejected(kCluster, "b", kStart));
  }
}

struct PanicCase {
  const char* name;
  size_t endpoints;
  size_t ejected;
  int min_health_percent;
  size_t eligible;
  bool panic;
};

TEST_CASE("minHealthPercent: too few endpoints in service and ejections are ignored", "[outlier]") {
  const std::vector<PanicCase> cases = {
      {"1 of 4 out, 50%", 4, 1, 50, 3, false},
      {"2 of 4 out: 50% in service is not below 50%", 4, 2, 50, 2, false},
      {"3 of 4 out: 25% < 50%, panic", 4, 3, 50, 4, true},
      {"1 of 4 out, 80%: 75% is below, but 75% x 1.4 counts as healthy", 4, 1, 80, 3, false},
      {"3 of 10 out, 80%: 70% x 1.4 < 100%, panic", 10, 3, 80, 10, true},
      {"all out, 0%: no panic, nothing eligible", 4, 4, 0, 0, false},
      {"all out, 1%: panic", 4, 4, 1, 4, true},
  };
  for (const PanicCase& c : cases) {
    SECTION(c.name) {
      const OutlierSettings s = settings("max_ejection_percent: 100 min_health_percent: " +
                                         std::to_string(c.min_health_percent));
      std::vector<std::string> uids;
      for (size_t i = 0; i < c.endpoints; ++i) uids.push_back("w" + std::to_string(i));
      OutlierDetector detector;
      for (size_t i = 0; i < c.ejected; ++i) {
        repeat(detector, uids[i], Outcome::k5xx, 5, kStart, s, uids.size());
      }
      REQUIRE(detector.ejectedCount(kCluster, kStart) == c.ejected);
      const auto eligible = detector.eligible(kCluster, uids, kStart, s);
      CHECK(eligible.indices.size() == c.eligible);
      CHECK(eligible.panic == c.panic);
      if (!c.panic) {
        for (size_t index : eligible.indices) CHECK(index >= c.ejected);
      }
    }
  }
}

TEST_CASE("without outlierDetection every endpoint is eligible", "[outlier]") {
  OutlierDetector detector;
  const std::vector<std::string> uids = {"a", "b"};
  const OutlierSettings off = OutlierSettings::fromProto(nullptr);
  repeat(detector, "a", Outcome::kGatewayError, 100, kStart, off, 2);
  const auto eligible = detector.eligible(kCluster, uids, kStart, off);
  CHECK(eligible.indices == std::vector<size_t>{0, 1});
  CHECK(detector.snapshot(kStart).empty());
}

TEST_CASE("example 07: Istio's circuit breaker", "[outlier]") {
  config::LoadResult loaded;
  config::Loader().loadPath(
      std::string(AMBIT_SOURCE_DIR) + "/samples/istio/07-circuit-breaker.yaml", loaded);
  REQUIRE(loaded.diagnostics.empty());
  REQUIRE(loaded.objects.size() == 1);
  const auto& rule = loaded.objects[0].as<net::DestinationRule>();
  const OutlierSettings s = OutlierSettings::fromProto(&rule.traffic_policy().outlier_detection());
  CHECK(s.consecutive_5xx == 5);
  CHECK(s.interval == seconds(30));
  CHECK(s.base_ejection_time == seconds(30));
  CHECK(s.max_ejection_percent == 100);
  CHECK(s.min_health_percent == 0);

  const std::vector<std::string> uids = {"v1-a", "v1-b"};
  OutlierDetector detector;
  repeat(detector, "v1-a", Outcome::kGatewayError, 4, kStart, s, 2);
  CHECK(detector.eligible(kCluster, uids, kStart, s).indices.size() == 2);
  repeat(detector, "v1-a", Outcome::kGatewayError, 1, kStart, s, 2);
  CHECK(detector.eligible(kCluster, uids, kStart, s).indices == std::vector<size_t>{1});

  // maxEjectionPercent 100 lets the whole cluster go, and minHealthPercent 0 means no panic: no
  // endpoint is left, and requests fail as Envoy's do, with "no healthy upstream".
  repeat(detector, "v1-b", Outcome::kLocalOriginFailure, 5, kStart + seconds(1), s, 2);
  const auto none = detector.eligible(kCluster, uids, kStart + seconds(1), s);
  CHECK(none.indices.empty());
  CHECK_FALSE(none.panic);

  const auto status = detector.snapshot(kStart + seconds(10));
  REQUIRE(status.size() == 2);
  CHECK(status[0].uid == "v1-a");
  CHECK(status[0].ejected);
  CHECK(status[0].ejected_for == seconds(20));
  CHECK(status[1].ejected_for == seconds(21));

  // Both return after baseEjectionTime.
  CHECK(detector.eligible(kCluster, uids, kStart + seconds(31), s).indices.size() == 2);
  CHECK(detector.ejectionsTotal() == 2);
}

}  // namespace
}  // namespace ambit::waypoint
