// jwksUri parsing, and the JWKS cache against a local HTTP server whose answers the tests change:
// keys published once fetched and forgotten with their URI, failures leaving a URI absent (fail
// closed) or keeping its last good keys, and the fetch counters.
#include "waypoint/config/jwks_cache.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>

#include <catch2/catch.hpp>

#include "core/http/admin_server.h"
#include "test/waypoint/config/config_test_support.h"
#include "test/waypoint/jwt/jwt_test_support.h"

namespace ambit::waypoint::testing {
namespace {

using namespace std::chrono_literals;

struct UriCase {
  std::string uri;
  // When it parses:
  bool tls = false;
  std::string host;
  uint16_t port = 0;
  std::string target;
  // When it does not: a part of the error.
  std::string error;
};

UriCase parses(std::string uri, bool tls, std::string host, uint16_t port, std::string target) {
  return UriCase{std::move(uri), tls, std::move(host), port, std::move(target), ""};
}
UriCase refused(std::string uri, std::string error) {
  return UriCase{std::move(uri), false, "", 0, "", std::move(error)};
}

const UriCase kUriCases[] = {
    parses("https://issuer.example/.well-known/jwks.json", true, "issuer.example", 443,
           "/.well-known/jwks.json"),
    parses("http://issuer.example/jwks", false, "issuer.example", 80, "/jwks"),
    parses("https://issuer.example", true, "issuer.example", 443, "/"),
    parses("https://issuer.example/", true, "issuer.example", 443, "/"),
    parses("http://issuer.example:8080/keys?kid=a", false, "issuer.example", 8080, "/keys?kid=a"),
    parses("https://issuer.example:8443", true, "issuer.example", 8443, "/"),
    parses("http://issuer.example?v=2", false, "issuer.example", 80, "/?v=2"),
    parses("http://127.0.0.1:9/k", false, "127.0.0.1", 9, "/k"),
    parses("http://[::1]:8080/keys", false, "::1", 8080, "/keys"),
    parses("https://[2001:db8::1]/keys", true, "2001:db8::1", 443, "/keys"),
    parses("http://[::1]", false, "::1", 80, "/"),
    parses("http://[::1]?a=b", false, "::1", 80, "/?a=b"),
    parses("http://h:1/", false, "h", 1, "/"),
    parses("http://h:65535/", false, "h", 65535, "/"),
    // User info is never sent anywhere.
    refused("http://user@issuer.example/jwks", "carries user info"),
    refused("https://user:secret@issuer.example:8443/jwks", "carries user info"),
    refused("http://@issuer.example/", "carries user info"),
    // Ports.
    refused("http://issuer.example:0/", "bad port"),
    refused("http://issuer.example:65536/", "bad port"),
    refused("http://issuer.example:99999999999/", "bad port"),
    refused("http://issuer.example:http/", "bad port"),
    refused("http://issuer.example:/", "bad port"),
    refused("http://issuer.example:-1/", "bad port"),
    refused("http://[::1]:/", "bad port"),
    refused("http://[::1]:x/", "bad port"),
    // Hosts.
    refused("http:///jwks", "names no host"),
    refused("http://", "names no host"),
    refused("https://?a=b", "names no host"),
    refused("http://:8080/jwks", "names no host"),
    refused("http://[]:8080/jwks", "names no host"),
    refused("http://[::1/jwks", "unclosed"),
    refused("http://[::1]8080/jwks", "bad authority"),
    // Only digits make a port; an IPv6 address needs brackets.
    refused("http://issuer.example:+80/", "bad port"),
    refused("http://::1/jwks", "must be in brackets"),
    // No spaces, control or non-ASCII bytes (they would reach the Host header, SNI and the
    // request line); the fragment is dropped.
    refused("http://ho st/jwks", "space or a control"),
    refused("http://host/jw\tks", "space or a control"),
    refused("http://host/jwks\r\nX-Evil: 1", "space or a control"),
    parses("https://issuer.example/jwks#frag", true, "issuer.example", 443, "/jwks"),
    parses("http://issuer.example#frag", false, "issuer.example", 80, "/"),
    // Schemes.
    refused("ftp://issuer.example/jwks", "neither http:// nor https://"),
    refused("file:///etc/jwks.json", "neither http:// nor https://"),
    refused("issuer.example/jwks", "neither http:// nor https://"),
    refused("//issuer.example/jwks", "neither http:// nor https://"),
    refused("", "neither http:// nor https://"),
};

TEST_CASE("jwks cache: jwksUri parsing") {
  for (const UriCase& c : kUriCases) {
    INFO(c.uri);
    const absl::StatusOr<JwksUri> parsed = parseJwksUri(c.uri);
    if (!c.error.empty()) {
      REQUIRE_FALSE(parsed.ok());
      CHECK(absl::IsInvalidArgument(parsed.status()));
      const std::string message(parsed.status().message());
      INFO(message);
      CHECK(message.find(c.error) != std::string::npos);
      continue;
    }
    INFO(parsed.status().ToString());
    REQUIRE(parsed.ok());
    CHECK(parsed->tls == c.tls);
    CHECK(parsed->host == c.host);
    CHECK(parsed->port == c.port);
    CHECK(parsed->target == c.target);
  }
}

// A JWKS endpoint on 127.0.0.1 whose answer the test changes.
class JwksServer {
 public:
  enum class Answer { kKeys, kServerError, kGarbage, kNoUsableKey };

  JwksServer() {
    auto server = http::AdminServer::create("127.0.0.1", 0);
    REQUIRE(server.ok());
    server_ = std::move(*server);
    server_->handle("/jwks.json", [this](const http::Request&) { return answer(); });
    server_->start();
  }
  ~JwksServer() { server_->stop(); }

  std::string uri(const std::string& path = "/jwks.json") const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + path;
  }
  void serve(Answer answer, std::string keys_json = "") {
    std::lock_guard lock(mu_);
    answer_ = answer;
    keys_json_ = std::move(keys_json);
  }
  int requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  http::Response answer() {
    std::lock_guard lock(mu_);
    ++requests_;
    switch (answer_) {
      case Answer::kKeys:
        return http::Response{200, "application/json", keys_json_};
      case Answer::kServerError:
        return http::Response{500, "text/plain", "internal error\n"};
      case Answer::kGarbage:
        return http::Response{200, "application/json", "<html>not a key set</html>"};
      case Answer::kNoUsableKey:
        return http::Response{200, "application/json",
                              R"({"keys":[{"kty":"oct","k":"c2VjcmV0"}]})"};
    }
    return http::Response{};
  }

  std::unique_ptr<http::AdminServer> server_;
  mutable std::mutex mu_;
  Answer answer_ = Answer::kServerError;
  std::string keys_json_;
  int requests_ = 0;
};

// Quick refreshes and retries, so that each step of a test takes milliseconds.
JwksCacheOptions quick() {
  JwksCacheOptions options;
  options.refresh = 50ms;
  options.first_retry = 20ms;
  options.max_retry = 80ms;
  options.timeout = 2s;
  return options;
}

template <typename Predicate>
bool within5s(Predicate predicate) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!predicate()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// The kids of the keys published for `uri`; nullopt while none are.
std::optional<std::vector<std::string>> kidsAt(const JwksCache& cache, const std::string& uri) {
  const std::shared_ptr<const JwksSet> set = cache.current();
  const Jwks* keys = set->find(uri);
  if (keys == nullptr) return std::nullopt;
  std::vector<std::string> out;
  for (const Jwk& key : keys->keys) out.push_back(key.kid);
  return out;
}

uint64_t fetches(const metrics::Registry& registry, const std::string& result) {
  return counterValue(registry, "ambit_waypoint_jwks_fetches_total{result=\"" + result + "\"}")
      .value_or(0);
}

using Kids = std::optional<std::vector<std::string>>;

TEST_CASE("jwks cache: keys appear once fetched and go with their URI") {
  JwksServer server;
  server.serve(JwksServer::Answer::kKeys, jwksJson({TestKey::p256().jwk("a")}));
  metrics::Registry registry;
  std::atomic<int> changes{0};
  JwksCache cache(
      quick(), [&] { ++changes; }, &registry);
  CHECK(cache.current()->keys().empty());
  CHECK(fetches(registry, "ok") == 0);

  cache.setUris({server.uri()});
  REQUIRE(within5s([&] { return kidsAt(cache, server.uri()) == Kids({"a"}); }));
  CHECK(changes > 0);
  CHECK(fetches(registry, "ok") > 0);
  CHECK(fetches(registry, "failed") == 0);
  CHECK(cache.current()->keys().size() == 1);

  const int before = changes;
  cache.setUris({});
  REQUIRE(within5s([&] { return cache.current()->find(server.uri()) == nullptr; }));
  CHECK(changes > before);
  CHECK(cache.current()->keys().empty());
  // Its refresh loop ends: the server hears no more of it.
  std::this_thread::sleep_for(200ms);
  const int requests = server.requests();
  std::this_thread::sleep_for(300ms);
  CHECK(server.requests() == requests);
}

TEST_CASE("jwks cache: a URI that fails stays absent until a fetch works") {
  for (const auto answer : {JwksServer::Answer::kServerError, JwksServer::Answer::kGarbage,
                            JwksServer::Answer::kNoUsableKey}) {
    INFO("answer " << static_cast<int>(answer));
    JwksServer server;
    server.serve(answer);
    metrics::Registry registry;
    std::atomic<int> changes{0};
    JwksCache cache(
        quick(), [&] { ++changes; }, &registry);
    cache.setUris({server.uri()});
    // Retried, and absent all along: tokens of its issuer are refused.
    REQUIRE(within5s([&] { return fetches(registry, "failed") >= 3; }));
    CHECK(cache.current()->find(server.uri()) == nullptr);
    CHECK(changes == 0);
    CHECK(fetches(registry, "ok") == 0);

    server.serve(JwksServer::Answer::kKeys, jwksJson({TestKey::p256().jwk("late")}));
    REQUIRE(within5s([&] { return kidsAt(cache, server.uri()) == Kids({"late"}); }));
    CHECK(changes > 0);
    CHECK(fetches(registry, "ok") > 0);
  }
}

TEST_CASE("jwks cache: a failed refresh keeps the last good keys, a good one replaces them") {
  JwksServer server;
  server.serve(JwksServer::Answer::kKeys, jwksJson({TestKey::p256().jwk("first")}));
  metrics::Registry registry;
  JwksCache cache(quick(), nullptr, &registry);
  cache.setUris({server.uri()});
  REQUIRE(within5s([&] { return kidsAt(cache, server.uri()) == Kids({"first"}); }));

  for (const auto answer : {JwksServer::Answer::kServerError, JwksServer::Answer::kGarbage}) {
    server.serve(answer);
    const uint64_t failed = fetches(registry, "failed");
    REQUIRE(within5s([&] { return fetches(registry, "failed") >= failed + 2; }));
    CHECK(kidsAt(cache, server.uri()) == Kids({"first"}));
  }

  server.serve(JwksServer::Answer::kKeys,
               jwksJson({TestKey::p384().jwk("second"), TestKey::p256().jwk("third")}));
  REQUIRE(within5s([&] { return kidsAt(cache, server.uri()) == Kids({"second", "third"}); }));
}

TEST_CASE("jwks cache: each URI on its own, those that cannot be fetched stay absent") {
  JwksServer server;
  server.serve(JwksServer::Answer::kKeys, jwksJson({TestKey::p256().jwk("a")}));
  metrics::Registry registry;
  JwksCache cache(quick(), nullptr, &registry);
  const std::string missing = server.uri("/missing.json");     // a 404
  const std::string refused = "http://127.0.0.1:1/jwks.json";  // nothing listens there
  const std::string unusable = "ftp://127.0.0.1/jwks.json";    // never fetched
  cache.setUris({server.uri(), missing, refused, unusable});
  REQUIRE(within5s([&] { return kidsAt(cache, server.uri()) == Kids({"a"}); }));
  REQUIRE(within5s([&] { return fetches(registry, "failed") >= 4; }));
  const std::shared_ptr<const JwksSet> set = cache.current();
  CHECK(set->keys().size() == 1);
  for (const std::string& uri : {missing, refused, unusable}) {
    INFO(uri);
    CHECK(set->find(uri) == nullptr);
  }

  // The same URIs again change nothing; dropping the failing ones keeps the good one.
  cache.setUris({server.uri(), missing, refused, unusable});
  cache.setUris({server.uri()});
  std::this_thread::sleep_for(100ms);
  CHECK(kidsAt(cache, server.uri()) == Kids({"a"}));
}

TEST_CASE("jwks cache: without a registry nothing is counted, and keys still come") {
  JwksServer server;
  server.serve(JwksServer::Answer::kKeys, jwksJson({TestKey::p256().jwk("a")}));
  JwksCache cache(quick(), nullptr);
  cache.setUris({server.uri()});
  CHECK(within5s([&] { return kidsAt(cache, server.uri()) == Kids({"a"}); }));
}

}  // namespace
}  // namespace ambit::waypoint::testing
