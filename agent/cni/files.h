// Small file system helpers shared by the plugin and the agent side.
#pragma once

#include <sys/types.h>

#include <string>

#include "core/errno_text.h"  // errnoText, used by every file that includes this one
#include "core/status.h"

namespace ambit::agent::cni {

// Creates `path` and its missing parents with `mode` (like `mkdir -p -m`); existing directories
// are left as they are.
absl::Status makeDirectories(const std::string& path, mode_t mode);

}  // namespace ambit::agent::cni
