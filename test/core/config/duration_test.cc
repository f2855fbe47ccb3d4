#include "core/config/duration.h"

#include <catch2/catch.hpp>

namespace ambit::config {
namespace {

TEST_CASE("parseDuration accepts Go duration syntax", "[duration]") {
  struct Case {
    const char* text;
    int64_t seconds;
    int32_t nanos;
  };
  const Case cases[] = {
      {"10s", 10, 0},
      {"1.5s", 1, 500000000},
      {"100ms", 0, 100000000},
      {"1m", 60, 0},
      {"1h30m", 5400, 0},
      {"300us", 0, 300000},
      {"2ns", 0, 2},
      {"0", 0, 0},
      {"0.001s", 0, 1000000},
      {"-5s", -5, 0},
      {"1m0.5s", 60, 500000000},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    auto parsed = parseDuration(c.text);
    REQUIRE(parsed.ok());
    CHECK(parsed->seconds() == c.seconds);
    CHECK(parsed->nanos() == c.nanos);
  }
}

TEST_CASE("parseDuration rejects malformed durations with the reason", "[duration]") {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"", "bad duration \"\": empty (expected e.g. 10s, 1.5s, 100ms, 1m30s)"},
      {"10", "bad duration \"10\": missing unit (expected e.g. 10s, 1.5s, 100ms, 1m30s)"},
      {"10x", "bad duration \"10x\": unknown unit (expected e.g. 10s, 1.5s, 100ms, 1m30s)"},
      {"s", "bad duration \"s\": missing number (expected e.g. 10s, 1.5s, 100ms, 1m30s)"},
      {"1d", "bad duration \"1d\": unknown unit (expected e.g. 10s, 1.5s, 100ms, 1m30s)"},
      {"99999999999h",
       "bad duration \"99999999999h\": too large (expected e.g. 10s, 1.5s, 100ms, 1m30s)"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    auto parsed = parseDuration(c.text);
    REQUIRE_FALSE(parsed.ok());
    CHECK(std::string(parsed.status().message()) == c.message);
  }
}

TEST_CASE("formatDuration prints the shortest exact unit", "[duration]") {
  CHECK(formatDuration(*parseDuration("1.5s")) == "1500ms");
  CHECK(formatDuration(*parseDuration("2m")) == "120s");
  CHECK(formatDuration(*parseDuration("0s")) == "0s");
  CHECK(formatDuration(*parseDuration("7us")) == "7us");
}

}  // namespace
}  // namespace ambit::config
