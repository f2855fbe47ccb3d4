#include "core/port_number.h"

#include <catch2/catch.hpp>

namespace ambit {
namespace {

TEST_CASE("port numbers are 1 to 5 digits from 1 to 65535") {
  struct Case {
    const char* text;
    std::optional<uint16_t> expected;
  };
  const Case cases[] = {
      {"80", 80},
      {"1", 1},
      {"65535", 65535},
      {"00080", 80},
      {"0", std::nullopt},
      {"65536", std::nullopt},
      {"-1", std::nullopt},
      {"+80", std::nullopt},
      {"8080a", std::nullopt},
      {"", std::nullopt},
      {"000080", std::nullopt},
      {"99999999999999", std::nullopt},
      {" 80", std::nullopt},
      {"80 ", std::nullopt},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    CHECK(parsePortNumber(c.text) == c.expected);
  }
}

}  // namespace
}  // namespace ambit
