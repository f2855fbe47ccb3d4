// A deterministic text form of a translation (protobuf text format per resource, in name
// order, then the notes), for golden tests and for showing what the control plane serves.
#pragma once

#include <string>

#include "control/translate/translator.h"

namespace ambit::control::translate {

std::string formatTranslation(const Translation& translation);

}  // namespace ambit::control::translate
