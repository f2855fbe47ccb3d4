#include "agent/cni/pod_records.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "test/agent/cni/test_util.h"

namespace ambit::agent::cni {
namespace {

using ambit::cni::v1::PodInfo;
using testing::TempDir;

PodInfo pod(const std::string& uid, const std::string& name) {
  PodInfo info;
  info.set_uid(uid);
  info.set_namespace_("shop");
  info.set_name(name);
  info.add_ips("10.244.1.5");
  info.set_netns_path("/var/run/netns/cni-" + name);
  info.set_container_id("ctr-" + name);
  return info;
}

std::vector<std::string> filesIn(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST_CASE("a pod record is written whole, private, and read back", "[cni][records]") {
  TempDir tmp;
  const PodRecords records(tmp.file("pods/nested"));  // created on first write
  REQUIRE(records.write(pod("uid-1", "cart-0")).ok());

  const std::string path = records.pathFor("uid-1");
  CHECK(path == tmp.file("pods/nested/uid-1.json"));
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat(records.dir().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  // Only the record: the temp file was renamed into place.
  CHECK(filesIn(records.dir()) == std::vector<std::string>{"uid-1.json"});
  CHECK_THAT(testing::readFile(path), Catch::Contains("\"netns_path\""));

  const auto read = records.read("uid-1");
  REQUIRE(read.ok());
  CHECK(read->name() == "cart-0");
  REQUIRE(read->ips_size() == 1);
  CHECK(read->ips(0) == "10.244.1.5");
  CHECK(read->container_id() == "ctr-cart-0");

  // Rewriting replaces the record.
  PodInfo changed = pod("uid-1", "cart-0");
  changed.add_ips("fd00::5");
  REQUIRE(records.write(changed).ok());
  CHECK(filesIn(records.dir()) == std::vector<std::string>{"uid-1.json"});
  CHECK(records.read("uid-1")->ips_size() == 2);

  CHECK(absl::IsInvalidArgument(records.write(pod("", "nameless"))));
}

TEST_CASE("pod records are listed, and unreadable files skipped", "[cni][records]") {
  TempDir tmp;
  const PodRecords records(tmp.path());
  const auto empty = PodRecords(tmp.file("missing")).list();
  REQUIRE(empty.ok());
  CHECK(empty->empty());

  REQUIRE(records.write(pod("uid-b", "b")).ok());
  REQUIRE(records.write(pod("uid-a", "a")).ok());
  std::ofstream(tmp.file("broken.json")) << "{not json";
  std::ofstream(tmp.file("nouid.json")) << "{\"name\":\"x\"}";
  std::ofstream(tmp.file(".uid-c.json.tmp")) << "{\"uid\":\"uid-c\"}";  // a write in progress
  std::ofstream(tmp.file("notes.txt")) << "{\"uid\":\"uid-d\"}";
  std::ofstream(tmp.file("huge.json"))
      << "{\"uid\":\"uid-e\",\"name\":\"" << std::string(70000, 'x') << "\"}";
  std::filesystem::create_symlink(records.pathFor("uid-a"), tmp.file("link.json"));

  const auto listed = records.list();
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 2);
  CHECK((*listed)[0].uid() == "uid-a");
  CHECK((*listed)[1].uid() == "uid-b");
  CHECK((*listed)[1].netns_path() == "/var/run/netns/cni-b");
}

TEST_CASE("pod records are removed, and removing twice is fine", "[cni][records]") {
  TempDir tmp;
  const PodRecords records(tmp.path());
  REQUIRE(records.write(pod("uid-1", "a")).ok());
  REQUIRE(records.write(pod("uid-2", "b")).ok());
  REQUIRE(records.remove("uid-1").ok());
  CHECK(records.remove("uid-1").ok());
  CHECK(absl::IsNotFound(records.read("uid-1").status()));
  const auto listed = records.list();
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK((*listed)[0].uid() == "uid-2");
}

TEST_CASE("no pod key can name a file outside the record directory", "[cni][records]") {
  TempDir tmp;
  const PodRecords records(tmp.file("pods"));
  for (const std::string& uid :
       std::vector<std::string>{"../escape", "shop/cart-0", ".hidden", "a b", std::string(600, 'x'),
                                std::string(300, '/')}) {
    const std::string path = records.pathFor(uid);
    const auto file = std::filesystem::path(path).filename().string();
    CAPTURE(uid, path);
    CHECK(std::filesystem::path(path).parent_path() == tmp.file("pods"));
    CHECK(file.find('/') == std::string::npos);
    CHECK(file[0] != '.');
    CHECK(file.size() <= 255);
    REQUIRE(records.write(pod(uid, "p")).ok());
    CHECK(records.read(uid)->uid() == uid);
  }
  // Long keys that share a prefix still get different files.
  CHECK(records.pathFor(std::string(600, 'x')) != records.pathFor(std::string(601, 'x')));
  CHECK(records.pathFor("a/b") != records.pathFor("a%2Fb"));
  CHECK(filesIn(tmp.path()) == std::vector<std::string>{"pods"});
}

TEST_CASE("the pod key falls back to namespace/name, then the container id", "[cni][records]") {
  CHECK(podKey("uid-1", "shop", "cart", "ctr") == "uid-1");
  CHECK(podKey("", "shop", "cart", "ctr") == "shop/cart");
  CHECK(podKey("", "", "", "ctr") == "ctr");
}

}  // namespace
}  // namespace ambit::agent::cni
