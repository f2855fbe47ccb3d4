// A port as Istio and Kubernetes config write it, and as an HBONE :authority carries it.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ambit {

// 1 to 5 decimal digits with a value from 1 to 65535; nothing else (no sign, space or 0).
std::optional<uint16_t> parsePortNumber(std::string_view text);

}  // namespace ambit
