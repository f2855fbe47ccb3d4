#include "control/xds/resources.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/wrappers.pb.h>
#include <catch2/catch.hpp>

namespace ambit::control::xds {
namespace {

google::protobuf::Struct structOf(const std::vector<std::pair<std::string, std::string>>& fields) {
  google::protobuf::Struct s;
  for (const auto& [key, value] : fields) (*s.mutable_fields())[key].set_string_value(value);
  return s;
}

TEST_CASE("a resource's version follows its content only", "[xds][resources]") {
  google::protobuf::StringValue one;
  one.set_value("one");
  auto first = makeResource("r", one);
  CHECK(first->name == "r");
  CHECK(first->body.type_url() == "type.googleapis.com/google.protobuf.StringValue");
  CHECK(first->version.size() == 16);
  CHECK(first->version.find_first_not_of("0123456789abcdef") == std::string::npos);
  google::protobuf::StringValue unpacked;
  REQUIRE(first->body.UnpackTo(&unpacked));
  CHECK(unpacked.value() == "one");

  CHECK(makeResource("other-name", one)->version == first->version);
  google::protobuf::StringValue two;
  two.set_value("two");
  CHECK(makeResource("r", two)->version != first->version);

  // Map order does not leak into the version.
  const std::vector<std::pair<std::string, std::string>> fields = {
      {"zeta", "1"}, {"alpha", "2"}, {"mid", "3"}, {"beta", "4"}};
  std::vector<std::pair<std::string, std::string>> reversed(fields.rbegin(), fields.rend());
  CHECK(makeResource("s", structOf(fields))->version ==
        makeResource("s", structOf(reversed))->version);
}

TEST_CASE("a resource's version is stable across processes", "[xds][resources]") {
  // Reconnecting clients send versions from before a control-plane restart; a fixed input must
  // keep its version forever (SHA-256 of type URL, a zero byte and the body, first 8 bytes).
  google::protobuf::StringValue value;
  value.set_value("ambit");
  CHECK(makeResource("r", value)->version == "3f7f348342a5d1da");
}

}  // namespace
}  // namespace ambit::control::xds
