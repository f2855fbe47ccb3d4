#include "core/cli/flags.h"

#include <catch2/catch.hpp>

namespace ambit::cli {
namespace {

struct Parsed {
  std::optional<int> exit_code;
  std::string name = "default";
  std::string node;
  long port = -1;
};

Parsed parse(std::vector<std::string> args) {
  Parsed out;
  Flags flags("prog", "usage\n");
  flags.text("--name", &out.name);
  flags.text("--node", &out.node, /*required=*/true);
  flags.number("--port", 1, 100, [&](long v) { out.port = v; });
  std::vector<char*> argv{const_cast<char*>("prog")};
  for (std::string& arg : args) argv.push_back(arg.data());
  out.exit_code = flags.parse(static_cast<int>(argv.size()), argv.data());
  return out;
}

TEST_CASE("options take their value after a space or an equals sign") {
  Parsed p = parse({"--node", "n1", "--name=x=y", "--port", "7"});
  CHECK_FALSE(p.exit_code.has_value());
  CHECK(p.node == "n1");
  CHECK(p.name == "x=y");
  CHECK(p.port == 7);
  CHECK(parse({"--node=n1"}).name == "default");
}

TEST_CASE("bad command lines stop with exit code 2, help with 0") {
  CHECK(parse({"--node", "n1", "--frob", "1"}).exit_code == 2);
  CHECK(parse({"--node"}).exit_code == 2);                        // no value
  CHECK(parse({}).exit_code == 2);                                // required missing
  CHECK(parse({"--node", "n1", "--port", "0"}).exit_code == 2);   // out of range
  CHECK(parse({"--node", "n1", "--port", "7x"}).exit_code == 2);  // not a number
  CHECK(parse({"--node", "n1", "--port", ""}).exit_code == 2);
  CHECK(parse({"--help"}).exit_code == 0);
  CHECK(parse({"-h", "--frob"}).exit_code == 0);
}

}  // namespace
}  // namespace ambit::cli
