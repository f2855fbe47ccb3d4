#include "core/files.h"

#include <array>
#include <fstream>

#include <absl/strings/str_cat.h>

namespace ambit {

absl::StatusOr<std::string> readFile(const std::filesystem::path& path, size_t limit,
                                     const std::string& what) {
  const std::string name = absl::StrCat(what, " ", path.string());
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(name, ": cannot open"));
  std::string text;
  std::array<char, 4096> buf{};
  while (in.read(buf.data(), buf.size()) || in.gcount() > 0) {
    text.append(buf.data(), static_cast<size_t>(in.gcount()));
    if (text.size() > limit) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": larger than ", limit, " bytes"));
    }
  }
  if (in.bad()) return absl::InternalError(absl::StrCat(name, ": I/O error"));
  return text;
}

absl::StatusOr<std::string> readFlagFile(const std::string& path, const std::string& flag) {
  absl::StatusOr<std::string> content = readFile(path, 1 << 20);
  if (!content.ok()) {
    return absl::Status(content.status().code(),
                        absl::StrCat(flag, ": ", std::string(content.status().message())));
  }
  return content;
}

}  // namespace ambit
