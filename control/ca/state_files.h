// Files the CA keeps on disk: written atomically (temp file, fsync, rename) so a crash never leaves
// a half-written key, and private keys checked to be readable by their owner only.
#pragma once

#include <sys/types.h>
#include <filesystem>
#include <string>

#include "core/status.h"

namespace ambit::control::ca {

// Replaces `path` with `content`, created with `mode` (e.g. 0600) and made durable before return.
absl::Status writeFileAtomic(const std::filesystem::path& path, const std::string& content,
                             mode_t mode);

// FailedPreconditionError when the file at `path` may be read or written by group or others.
absl::Status checkOwnerOnly(const std::filesystem::path& path);

}  // namespace ambit::control::ca
