#include "control/source/directory_source.h"

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>

#include <catch2/catch.hpp>

namespace ambit::control::source {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Collects the states a source publishes and waits, bounded, for one that satisfies a predicate.
class Recorder {
 public:
  void onState(ConfigStatePtr state) {
    std::lock_guard<std::mutex> lock(mu_);
    latest_ = std::move(state);
    cv_.notify_all();
  }
  template <class Pred>
  ConfigStatePtr waitFor(Pred pred, std::chrono::milliseconds timeout = 5000ms) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return latest_ && pred(*latest_); });
    return latest_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  ConfigStatePtr latest_;
};

std::string ns(const std::string& name) {
  return "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + name + "\n";
}

void write(const fs::path& path, const std::string& text) {
  // Write then rename, as editors and `kubectl`-style tools do, so no half file is read.
  const fs::path tmp = path.parent_path() / ("." + path.filename().string() + ".tmp");
  std::ofstream(tmp) << text;
  fs::rename(tmp, path);
}

bool hasNamespace(const ConfigState& state, const std::string& name) {
  for (const config::Object& o : state.objects) {
    if (o.name() == name) return true;
  }
  return false;
}

TEST_CASE("the directory source follows adds, changes and deletes", "[source][inotify]") {
  const fs::path dir = fs::temp_directory_path() / "ambit_directory_source_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  write(dir / "a.yaml", ns("alpha"));

  auto source = DirectorySource::create({dir.string(), 20ms});
  REQUIRE(source.ok());
  Recorder recorder;
  REQUIRE((*source)->start([&](ConfigStatePtr s) { recorder.onState(std::move(s)); }).ok());
  auto state = recorder.waitFor([](const ConfigState& s) { return hasNamespace(s, "alpha"); });
  REQUIRE(hasNamespace(*state, "alpha"));

  SECTION("add a file, then a file in a new subdirectory") {
    write(dir / "b.yaml", ns("beta"));
    state = recorder.waitFor([](const ConfigState& s) { return hasNamespace(s, "beta"); });
    CHECK(hasNamespace(*state, "beta"));
    fs::create_directories(dir / "sub");
    write(dir / "sub" / "c.yml", ns("gamma"));
    state = recorder.waitFor([](const ConfigState& s) { return hasNamespace(s, "gamma"); });
    CHECK(hasNamespace(*state, "gamma"));
    CHECK(state->objects.size() == 3);
  }
  SECTION("modify and delete") {
    write(dir / "a.yaml", ns("alpha2"));
    state = recorder.waitFor([](const ConfigState& s) { return hasNamespace(s, "alpha2"); });
    CHECK(hasNamespace(*state, "alpha2"));
    CHECK_FALSE(hasNamespace(*state, "alpha"));
    fs::remove(dir / "a.yaml");
    state = recorder.waitFor([](const ConfigState& s) { return s.objects.empty(); });
    CHECK(state->objects.empty());
  }
  SECTION("a broken file keeps its objects, then is fixed") {
    write(dir / "a.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: [alpha\n");
    state = recorder.waitFor([](const ConfigState& s) {
      for (const ObjectStatus& st : s.statuses) {
        if (!st.findings.empty() && st.findings[0].code == "AMB0002") return true;
      }
      return false;
    });
    CHECK(hasNamespace(*state, "alpha"));
    write(dir / "a.yaml", ns("delta"));
    state = recorder.waitFor([](const ConfigState& s) { return hasNamespace(s, "delta"); });
    CHECK(hasNamespace(*state, "delta"));
    CHECK_FALSE(hasNamespace(*state, "alpha"));
  }
  SECTION("removing a subdirectory removes its objects") {
    fs::create_directories(dir / "sub");
    write(dir / "sub" / "c.yaml", ns("gamma"));
    recorder.waitFor([](const ConfigState& s) { return hasNamespace(s, "gamma"); });
    fs::remove_all(dir / "sub");
    state = recorder.waitFor([](const ConfigState& s) { return !hasNamespace(s, "gamma"); });
    CHECK_FALSE(hasNamespace(*state, "gamma"));
    CHECK(hasNamespace(*state, "alpha"));
  }
  (*source)->stop();
  fs::remove_all(dir);
}

TEST_CASE("the directory source refuses a missing directory", "[source]") {
  auto source = DirectorySource::create({"/nonexistent/ambit", 20ms});
  REQUIRE_FALSE(source.ok());
  CHECK(std::string(source.status().message()) ==
        "config directory /nonexistent/ambit: not a directory");
}

}  // namespace
}  // namespace ambit::control::source
