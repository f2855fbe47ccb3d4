#include "core/errno_text.h"

#include <string.h>

namespace ambit {

std::string errnoText(int err) {
  char buffer[256];
  // glibc's strerror_r (the GNU form, as _GNU_SOURCE is on) returns a pointer that may or may not
  // be `buffer`; it never fails.
  const char* text = ::strerror_r(err, buffer, sizeof(buffer));
  if (text == nullptr || *text == '\0') return "errno " + std::to_string(err);
  return text;
}

}  // namespace ambit
