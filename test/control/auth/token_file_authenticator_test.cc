// TokenFileAuthenticator: the token file format, its errors by line, bearer header parsing, and
// reloading.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "control/auth/token_file_authenticator.h"

namespace ambit::control::auth {
namespace {

namespace fs = std::filesystem;

constexpr const char* kNodeToken = "n1-secret-token-0123456789";
constexpr const char* kWaypointToken = "wp-secret-token-0123456789";

class TokenFile {
 public:
  explicit TokenFile(const std::string& text) {
    std::string tmpl = (fs::temp_directory_path() / "ambit-tokens-XXXXXX").string();
    const int fd = ::mkstemp(tmpl.data());
    REQUIRE(fd >= 0);
    ::close(fd);
    path_ = tmpl;
    write(text);
  }
  ~TokenFile() {
    std::error_code ec;
    fs::remove(path_, ec);
  }
  TokenFile(const TokenFile&) = delete;
  TokenFile& operator=(const TokenFile&) = delete;

  void write(const std::string& text) const {
    std::ofstream out(path_, std::ios::trunc);
    out << text;
    REQUIRE(out.good());
  }
  std::string path() const { return path_.string(); }

 private:
  fs::path path_;
};

const std::string kGoodFile = absl::StrCat(
    "# Ambit control-plane callers\n"
    "\n",
    kNodeToken, " node n1\n", "   # indented comment\n", kWaypointToken,
    "\twaypoint   spiffe://cluster.local/ns/shop/sa/waypoint  \r\n");

TEST_CASE("token file: nodes and waypoints, comments and blank lines") {
  TokenFile file(kGoodFile);
  auto auth = TokenFileAuthenticator::create(file.path());
  REQUIRE(auth.ok());
  CHECK((*auth)->tokenCount() == 2);

  absl::StatusOr<Caller> node = (*auth)->authenticate(absl::StrCat("Bearer ", kNodeToken));
  REQUIRE(node.ok());
  CHECK(node->kind == Caller::Kind::kNodeAgent);
  CHECK(node->node == "n1");
  CHECK(node->identity.empty());

  absl::StatusOr<Caller> waypoint = (*auth)->authenticate(absl::StrCat("bearer ", kWaypointToken));
  REQUIRE(waypoint.ok());
  CHECK(waypoint->kind == Caller::Kind::kWaypoint);
  CHECK(waypoint->identity == "spiffe://cluster.local/ns/shop/sa/waypoint");
  CHECK(waypoint->node.empty());
}

TEST_CASE("authenticate refuses without echoing the token") {
  TokenFile file(kGoodFile);
  auto auth = TokenFileAuthenticator::create(file.path());
  REQUIRE(auth.ok());
  struct Case {
    std::string header;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "missing bearer token"},
      {"Bearer", "missing bearer token"},
      {"Bearer    ", "missing bearer token"},
      {absl::StrCat("Basic ", kNodeToken), "missing bearer token"},
      {kNodeToken, "missing bearer token"},
      {"Bearer wrong-token-but-long-enough", "unknown token"},
      {absl::StrCat("Bearer ", kNodeToken, "x"), "unknown token"},
      {absl::StrCat("Bearer ", std::string(kNodeToken).substr(1)), "unknown token"},
  };
  for (const Case& c : cases) {
    INFO(c.header);
    absl::StatusOr<Caller> caller = (*auth)->authenticate(c.header);
    REQUIRE_FALSE(caller.ok());
    CHECK(caller.status().code() == absl::StatusCode::kUnauthenticated);
    CHECK(caller.status().message() == c.message);
  }
}

TEST_CASE("token file errors name the line and never the token") {
  struct Case {
    std::string name;
    std::string text;
    std::string message;  // after "<path>:"
  };
  const std::string expected =
      "expected \"<token> node <node-name>\" or \"<token> waypoint <spiffe-id>\"";
  const std::vector<Case> cases = {
      {"two words", absl::StrCat("# c\n", kNodeToken, " node\n"), "2: " + expected},
      {"four words", absl::StrCat(kNodeToken, " node n1 extra\n"), "1: " + expected},
      {"unknown kind", absl::StrCat("\n\n", kNodeToken, " pod n1\n"),
       "3: unknown caller kind \"pod\"; " + expected},
      {"short token", "short-secret node n1\n", "1: token is shorter than 16 characters"},
      {"bad node name", absl::StrCat(kNodeToken, " node Node_1\n"),
       "1: node name \"Node_1\" is not a DNS-1123 subdomain"},
      {"bad waypoint identity",
       absl::StrCat(kNodeToken, " node n1\n", kWaypointToken,
                    " waypoint spiffe://cluster.local/sa/x\n"),
       "2: SPIFFE ID \"spiffe://cluster.local/sa/x\": path must be "
       "/ns/<namespace>/sa/<service-account>"},
      {"duplicate token", absl::StrCat(kNodeToken, " node n1\n# x\n", kNodeToken, " node n2\n"),
       "3: token repeats the token of line 1"},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      TokenFile file(c.text);
      auto auth = TokenFileAuthenticator::create(file.path());
      REQUIRE_FALSE(auth.ok());
      CHECK(auth.status().code() == absl::StatusCode::kInvalidArgument);
      CHECK(auth.status().message() == absl::StrCat(file.path(), ":", c.message));
      CHECK(std::string(auth.status().message()).find(kNodeToken) == std::string::npos);
      CHECK(std::string(auth.status().message()).find("short-secret") == std::string::npos);
    }
  }
}

TEST_CASE("a missing token file is NotFound") {
  auto auth = TokenFileAuthenticator::create("/nonexistent/ambit/tokens");
  REQUIRE_FALSE(auth.ok());
  CHECK(auth.status().code() == absl::StatusCode::kNotFound);
  CHECK(auth.status().message() == "token file /nonexistent/ambit/tokens: cannot open");
}

TEST_CASE("reload picks up a changed file and keeps the old tokens on error") {
  TokenFile file(absl::StrCat(kNodeToken, " node n1\n"));
  auto created = TokenFileAuthenticator::create(file.path());
  REQUIRE(created.ok());
  TokenFileAuthenticator& auth = **created;
  const std::string old_header = absl::StrCat("Bearer ", kNodeToken);
  const std::string new_header = "Bearer rotated-token-0123456789";
  REQUIRE(auth.authenticate(old_header).ok());
  CHECK(auth.authenticate(new_header).status().message() == "unknown token");

  file.write("rotated-token-0123456789 node n7\n");
  REQUIRE(auth.reload().ok());
  CHECK(auth.authenticate(old_header).status().message() == "unknown token");
  absl::StatusOr<Caller> caller = auth.authenticate(new_header);
  REQUIRE(caller.ok());
  CHECK(caller->node == "n7");

  file.write("rotated-token-0123456789 node\n");
  absl::Status broken = auth.reload();
  CHECK(broken.code() == absl::StatusCode::kInvalidArgument);
  CHECK(auth.authenticate(new_header).ok());
  CHECK(auth.tokenCount() == 1);

  file.write("# nobody may call\n");
  REQUIRE(auth.reload().ok());
  CHECK(auth.tokenCount() == 0);
  CHECK(auth.authenticate(new_header).status().message() == "unknown token");
}

}  // namespace
}  // namespace ambit::control::auth
