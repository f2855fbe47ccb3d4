// Validation of one object by the rules of its kind, following Istio's own validation.
#pragma once

#include <vector>

#include "core/config/diagnostic.h"
#include "core/config/object.h"
#include "core/config/validate/issues.h"

namespace ambit::config::validate {

// Checks an object's metadata and body; paths in the result are relative to the object.
Issues validateObject(const Object& object);

// Validates one object, appending one AMB0100 diagnostic per issue (located with the object's
// field lines) to `out`. Returns whether it has no errors.
bool validateInto(const Object& object, std::vector<Diagnostic>& out);

// Validates every object, appending one AMB0100 diagnostic per issue (located with the object's
// field lines) to `out`. Returns, for each object, whether it has no errors.
std::vector<bool> validateAll(const std::vector<Object>& objects, std::vector<Diagnostic>& out);

}  // namespace ambit::config::validate
