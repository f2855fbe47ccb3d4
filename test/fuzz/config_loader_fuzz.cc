// Fuzzes the whole configuration path a user's file takes: loading, validation and analysis.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/config/analysis/analyze.h"
#include "core/config/loader.h"
#include "core/config/validate/validate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ambit::config;
  LoadResult result;
  Loader().loadText(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.yaml",
                    result);
  std::vector<Diagnostic> findings;
  validate::validateAll(result.objects, findings);
  for (Diagnostic& d : analysis::analyze(result.objects)) findings.push_back(std::move(d));
  sortDiagnostics(findings);
  return 0;
}
