#include "control/translate/note.h"

#include <absl/strings/str_cat.h>

namespace ambit::control::translate {

std::string Note::format() const {
  return absl::StrCat(object.display(), ": ", reason, ": ", message);
}

}  // namespace ambit::control::translate
