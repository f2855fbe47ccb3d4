#include "core/config/loader.h"

#include <chrono>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "core/config/codes.h"
#include "istio/networking/v1alpha3/virtual_service.pb.h"
#include "k8s/core.pb.h"

namespace ambit::config {
namespace {

LoadResult load(const std::string& text, LoadLimits limits = {}) {
  LoadResult out;
  Loader(limits).loadText(text, "in.yaml", out);
  return out;
}

std::vector<std::string> formatted(const LoadResult& r) {
  std::vector<std::string> lines;
  for (const Diagnostic& d : r.diagnostics) lines.push_back(d.format());
  return lines;
}

TEST_CASE("splitDocuments splits at --- markers and keeps line numbers", "[loader]") {
  const auto docs = splitDocuments("a: 1\n---\nb: 2\n--- # c\nc: 3\n...\nignored\n---\nd: 4");
  REQUIRE(docs.size() == 4);
  CHECK(docs[0].first_line == 1);
  CHECK(docs[1].first_line == 2);
  CHECK(docs[2].first_line == 4);
  CHECK(docs[3].first_line == 8);
  CHECK(std::string(docs[3].text).find("d: 4") != std::string::npos);
}

TEST_CASE("one bad document does not stop the others", "[loader]") {
  const auto r = load(R"(apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: first}
spec: {hosts: [a]}
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: broken, namespace: shop}
spec:
  hosts: [a]
  http:
  - route:
    - weight: "x"
---
this: is: not: yaml
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {ports: [{port: 80}], extra: ignored}
)");
  REQUIRE(r.objects.size() == 2);
  CHECK(r.objects[0].name() == "first");
  CHECK(r.objects[0].namespace_() == "default");
  CHECK(r.objects[1].kind->kind == Kind::kService);
  CHECK(r.objects[1].as<k8s::Service>().spec().ports(0).port() == 80);
  CHECK(formatted(r) ==
        std::vector<std::string>{
            "Error [AMB0006] (VirtualService shop/broken in.yaml:13) "
            "spec.http[0].route[0].weight: expected an integer, got a string (\"x\")",
            "Error [AMB0002] (in.yaml:15) YAML syntax error: illegal map value",
        });
}

TEST_CASE("document-level problems are reported with their codes", "[loader]") {
  struct Case {
    const char* yaml;
    const char* expected;
  };
  const Case cases[] = {
      {"- a\n- b\n",
       "Error [AMB0003] (in.yaml:1) document is not an object (expected apiVersion, kind, metadata "
       "and spec)"},
      {"kind: VirtualService\n", "Error [AMB0003] (in.yaml:1) missing apiVersion"},
      {"apiVersion: v1\n", "Error [AMB0003] (in.yaml:1) missing kind"},
      {"apiVersion: networking.istio.io/v2\nkind: VirtualService\nmetadata: {name: a}\n",
       "Error [AMB0004] (VirtualService a in.yaml:1) apiVersion: networking.istio.io/v2 is not a "
       "served version of VirtualService; use networking.istio.io/v1alpha3 or v1beta1 or v1"},
      {"apiVersion: networking.istio.io/v1beta1\nkind: Sidecar\nmetadata: {name: a}\n",
       "Warning [AMB0005] (Sidecar a in.yaml:1) networking.istio.io/v1beta1 Sidecar is not "
       "supported by Ambit; it is ignored"},
      {"apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {namespace: x}\n",
       "Error [AMB0006] (PeerAuthentication in.yaml:1) metadata.name: name is required"},
      {"apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: a}\nspecs: "
       "{}\n",
       "Error [AMB0006] (PeerAuthentication default/a in.yaml:4) specs: unknown field \"specs\"; "
       "expected apiVersion, kind, metadata, spec or status"},
  };
  for (const Case& c : cases) {
    INFO(c.yaml);
    const auto r = load(c.yaml);
    CHECK(r.objects.empty());
    CHECK(formatted(r) == std::vector<std::string>{c.expected});
  }
}

TEST_CASE("Kubernetes kinds the mesh does not read are skipped silently", "[loader]") {
  const auto r = load("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: y}\n");
  CHECK(r.objects.empty());
  CHECK(r.diagnostics.empty());
}

TEST_CASE("every served version maps to one schema", "[loader]") {
  for (const char* version : {"v1alpha3", "v1beta1", "v1"}) {
    const auto r = load(std::string("apiVersion: networking.istio.io/") + version +
                        "\nkind: VirtualService\nmetadata: {name: a}\nspec: {hosts: [a]}\n");
    REQUIRE(r.objects.size() == 1);
    CHECK(r.objects[0].as<istio::networking::v1alpha3::VirtualService>().hosts(0) == "a");
  }
  for (const char* api : {"security.istio.io/v1beta1", "security.istio.io/v1"}) {
    INFO(api);
    CHECK(load(std::string("apiVersion: ") + api +
               "\nkind: AuthorizationPolicy\nmetadata: {name: a}\nspec: {}\n")
              .objects.size() == 1);
  }
  for (const char* api : {"telemetry.istio.io/v1alpha1", "telemetry.istio.io/v1"}) {
    INFO(api);
    CHECK(load(std::string("apiVersion: ") + api + "\nkind: Telemetry\nmetadata: {name: a}\n")
              .objects.size() == 1);
  }
}

TEST_CASE("hostile input is rejected quickly with a clear error", "[loader][limits]") {
  const auto start = std::chrono::steady_clock::now();

  SECTION("binary garbage") {
    std::string garbage;
    for (int i = 0; i < 4096; ++i) garbage.push_back(static_cast<char>((i * 151 + 7) % 256));
    const auto r = load(garbage);
    CHECK(r.objects.empty());
    REQUIRE(r.diagnostics.size() == 1);
    CHECK(r.diagnostics[0].code == codes::kFileError);
    CHECK(r.diagnostics[0].message.rfind("not UTF-8 text: byte 0x", 0) == 0);
  }
  SECTION("a file over the size limit") {
    const std::string big(10 * 1024 * 1024, 'a');
    const auto r = load(big);
    REQUIRE(r.diagnostics.size() == 1);
    CHECK(r.diagnostics[0].message == "input is 10485760 bytes; the limit is 4194304 bytes");
  }
  SECTION("10,000 levels of nesting") {
    const std::string deep = "apiVersion: v1\nkind: Pod\nmetadata: " + std::string(10000, '[') +
                             std::string(10000, ']') + "\n";
    const auto r = load(deep);
    CHECK(r.objects.empty());
    REQUIRE(r.diagnostics.size() == 1);
    CHECK(r.diagnostics[0].code == codes::kLimit);
  }
  SECTION("billion laughs") {
    std::string doc =
        "apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: {name: lol}\n"
        "spec:\n  configPatches:\n  - patch:\n      value:\n        l0: &l0 [lol, lol, lol, lol, "
        "lol, lol, lol, lol, lol]\n";
    for (int i = 1; i < 10; ++i) {
      const std::string p = "*l" + std::to_string(i - 1);
      doc += "        l" + std::to_string(i) + ": &l" + std::to_string(i) + " [" + p + ", " + p +
             ", " + p + ", " + p + ", " + p + ", " + p + ", " + p + ", " + p + ", " + p + "]\n";
    }
    const auto r = load(doc);
    CHECK(r.objects.empty());
    REQUIRE(r.diagnostics.size() == 1);
    CHECK(r.diagnostics[0].code == codes::kLimit);
    CHECK(r.diagnostics[0].object.display() == "EnvoyFilter default/lol");
  }
  // Generous bound: each case takes milliseconds; this catches exponential blow-ups only.
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
}

TEST_CASE("loadPath reads directories recursively in name order", "[loader]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "ambit_loader_test";
  fs::remove_all(dir);
  fs::create_directories(dir / "sub");
  std::ofstream(dir / "b.yaml") << "apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n";
  std::ofstream(dir / "sub" / "a.yml") << "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n";
  std::ofstream(dir / "notes.txt") << "not config";
  LoadResult r;
  Loader().loadPath(dir.string(), r);
  Loader().loadPath((dir / "missing.yaml").string(), r);
  REQUIRE(r.objects.size() == 2);
  CHECK(r.objects[0].name() == "b");
  CHECK(r.objects[1].name() == "a");
  CHECK(r.objects[1].namespace_().empty());
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics[0].message == "no such file or directory");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ambit::config
