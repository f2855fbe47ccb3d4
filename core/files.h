// Reading small files whole, with a size bound, in the project's error style.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include "core/status.h"

namespace ambit {

// The whole content of `path`, at most `limit` bytes. Errors read "<what> <path>: <reason>":
// NOT_FOUND when it cannot be opened, INVALID_ARGUMENT when it is larger than `limit`.
absl::StatusOr<std::string> readFile(const std::filesystem::path& path, size_t limit,
                                     const std::string& what = "read");

// A small file (at most 1 MiB) named by a command-line flag, e.g. a token or a CA certificate.
// Errors read "<flag>: <reason>".
absl::StatusOr<std::string> readFlagFile(const std::string& path, const std::string& flag);

}  // namespace ambit
