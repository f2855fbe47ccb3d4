// Loads configuration from YAML files and directories: multi-document files, each document parsed
// on its own so one bad document never stops the others, hostile input rejected in bounded time.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/diagnostic.h"
#include "core/config/object.h"

namespace ambit::config {

struct LoadLimits {
  size_t max_file_bytes = 4 * 1024 * 1024;
  size_t max_nodes_per_document = 200000;
  int max_depth = 100;
};

struct LoadResult {
  std::vector<Object> objects;
  std::vector<Diagnostic> diagnostics;
};

class Loader {
 public:
  explicit Loader(LoadLimits limits = {}) : limits_(limits) {}

  // Loads each path: a file, or a directory searched recursively for *.yaml, *.yml and *.json
  // (in name order, so results are stable).
  void loadPath(const std::string& path, LoadResult& out) const;

  // Loads the text of one file; `file` names it in findings.
  void loadText(std::string_view text, const std::string& file, LoadResult& out) const;

 private:
  void loadFile(const std::string& path, LoadResult& out) const;
  void loadDocument(std::string_view text, const std::string& file, int first_line,
                    LoadResult& out) const;

  LoadLimits limits_;
};

// A YAML document's text and the 1-based line it starts on in its file.
struct DocumentText {
  std::string_view text;
  int first_line;
};

// Splits a stream at `---` document markers (and skips after `...` end markers).
std::vector<DocumentText> splitDocuments(std::string_view text);

}  // namespace ambit::config
