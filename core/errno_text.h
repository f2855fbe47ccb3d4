// The text of an errno value, safe to call from any thread (std::strerror is not).
#pragma once

#include <string>

namespace ambit {

// "Connection refused" for ECONNREFUSED; "errno 12345" for a value the C library does not know.
std::string errnoText(int err);

}  // namespace ambit
