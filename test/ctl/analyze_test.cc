// Golden tests of `ambitctl analyze`: the shipped samples, analyzer cases and usage errors.
// Regenerate the golden files after an intended change with AMBIT_UPDATE_GOLDEN=1.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "ctl/analyze/analyze_command.h"

namespace ambit::ctl {
namespace {

namespace fs = std::filesystem;

struct Run {
  int exit;
  std::string out;
  std::string err;
};

// Runs analyze from the source root so paths in the output are stable.
Run analyze(const std::vector<std::string>& args) {
  const fs::path previous = fs::current_path();
  fs::current_path(AMBIT_SOURCE_DIR);
  std::ostringstream out;
  std::ostringstream err;
  const int exit = runAnalyze(args, out, err);
  fs::current_path(previous);
  return {exit, out.str(), err.str()};
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void checkGolden(const std::vector<std::string>& args, const std::string& golden) {
  const Run run = analyze(args);
  const std::string actual = "exit " + std::to_string(run.exit) + "\n" + run.out;
  const fs::path path = fs::path(AMBIT_SOURCE_DIR) / "test/ctl/golden" / golden;
  if (std::getenv("AMBIT_UPDATE_GOLDEN") != nullptr) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << actual;
  }
  INFO("golden file " << path.string());
  CHECK(run.err.empty());
  CHECK(actual == readFile(path));
}

std::vector<std::string> sampleFiles() {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(fs::path(AMBIT_SOURCE_DIR) / "samples/istio")) {
    files.push_back(entry.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST_CASE("every shipped Istio sample analyzes without errors", "[analyze]") {
  const auto files = sampleFiles();
  REQUIRE(files.size() >= 15);
  for (const std::string& file : files) {
    INFO(file);
    const Run run = analyze({"-f", "samples/istio/" + file});
    CHECK(run.exit == kExitOk);
    CHECK(run.out.find("Error [") == std::string::npos);
  }
}

TEST_CASE("the shop sample mesh analyzes clean", "[analyze]") {
  const Run run = analyze({"-f", "samples/mesh"});
  CHECK(run.exit == kExitOk);
  CHECK(run.out == "No issues found in 12 objects from 1 path.\n");
}

TEST_CASE("analyze output of each sample matches its golden file", "[analyze][golden]") {
  for (const std::string& file : sampleFiles()) {
    checkGolden({"-f", "samples/istio/" + file},
                "samples-istio-" + fs::path(file).stem().string() + ".txt");
  }
}

TEST_CASE("analyzer cases match their golden files", "[analyze][golden]") {
  const fs::path cases = fs::path(AMBIT_SOURCE_DIR) / "test/ctl/analyze_cases";
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(cases)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  REQUIRE(names.size() >= 7);
  for (const std::string& name : names) {
    checkGolden({"--filename", "test/ctl/analyze_cases/" + name}, name + ".txt");
  }
  checkGolden({"-f", "test/ctl/analyze_cases/subset-not-defined", "-o", "json"},
              "subset-not-defined.json");
}

TEST_CASE("analyze exit status follows the worst finding", "[analyze]") {
  CHECK(analyze({"-f", "test/ctl/analyze_cases/subset-not-defined"}).exit == kExitFindings);
  CHECK(analyze({"-f", "samples/istio/01-route-by-user-agent.yaml"}).exit == kExitOk);
  CHECK(analyze({"-f", "no/such/file.yaml"}).exit == kExitFindings);
}

TEST_CASE("analyze usage errors exit 2 with a message", "[analyze]") {
  struct Case {
    std::vector<std::string> args;
    const char* message;
  };
  const Case cases[] = {
      {{}, "ambitctl analyze: no input: give at least one -f FILE|DIR\n"},
      {{"-f"}, "ambitctl analyze: -f needs a file or directory\n"},
      {{"-f", "samples", "-o", "yaml"}, "ambitctl analyze: -o must be text or json\n"},
      {{"--output=xml", "samples"}, "ambitctl analyze: --output must be text or json\n"},
      {{"--frobnicate"}, "ambitctl analyze: unknown option --frobnicate\n"},
  };
  for (const Case& c : cases) {
    const Run run = analyze(c.args);
    CHECK(run.exit == kExitUsage);
    CHECK(run.err == std::string(c.message) + "(see 'ambitctl analyze --help')\n");
    CHECK(run.out.empty());
  }
  const Run help = analyze({"--help"});
  CHECK(help.exit == kExitOk);
  CHECK(help.out.rfind("Usage: ambitctl analyze", 0) == 0);
}

}  // namespace
}  // namespace ambit::ctl
