// The invalid corpus: each test/corpus/invalid/NAME.yaml must be rejected with exactly the
// findings in NAME.expected. Regenerate with AMBIT_UPDATE_GOLDEN=1 and review the diff.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "ctl/analyze/analyze_command.h"

namespace ambit::ctl {
namespace {

namespace fs = std::filesystem;

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The findings only, without the closing summary line.
std::string findingsOf(const std::string& output) {
  const size_t last = output.rfind('\n', output.size() >= 2 ? output.size() - 2 : 0);
  return last == std::string::npos ? "" : output.substr(0, last + 1);
}

TEST_CASE("every invalid corpus document is rejected with its expected message", "[corpus]") {
  const fs::path root(AMBIT_SOURCE_DIR);
  const fs::path dir = root / "test/corpus/invalid";
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 40);

  const fs::path previous = fs::current_path();
  fs::current_path(root);
  for (const fs::path& file : files) {
    const std::string relative = fs::relative(file, root).string();
    std::ostringstream out;
    std::ostringstream err;
    const int exit = runAnalyze({"-f", relative}, out, err);
    const std::string actual = findingsOf(out.str());
    fs::path expected = file;
    expected.replace_extension(".expected");
    if (std::getenv("AMBIT_UPDATE_GOLDEN") != nullptr) std::ofstream(expected) << actual;
    INFO(relative);
    CHECK(exit == kExitFindings);
    CHECK(actual.find("Error [") != std::string::npos);
    CHECK(actual == readFile(expected));
  }
  fs::current_path(previous);
}

}  // namespace
}  // namespace ambit::ctl
