// The request path normalization the waypoint applies before AuthorizationPolicy evaluation and
// routing, as Istio's meshConfig.pathNormalization configures Envoy. The normalized target is both
// what the policies see and what the endpoint receives, so the two cannot disagree about which
// resource a request names.
//
// Ambit's choices, stricter than Envoy where Envoy would pass something ambiguous on:
// - In BASE and MERGE_SLASHES an encoded slash or backslash ("%2F", "%2f", "%5C", "%5c") refuses
//   the request (400) instead of forwarding it: an endpoint that decodes it would see a path the
//   policies never saw (CVE-2021-31920). DECODE_AND_MERGE_SLASHES decodes them instead.
// - Path parameters are kept as they are (";jsessionid=1" stays), as Envoy does. A "paths" value
//   that should also cover "/admin;x=1" must be a prefix form ("/admin*"), not an exact one.
// - The query is never normalized: it is checked for forbidden bytes and kept as sent.
#pragma once

#include <string>
#include <string_view>

#include <absl/status/statusor.h>

namespace ambit::waypoint {

// meshConfig.pathNormalization.normalization.
enum class PathNormalization {
  kNone,                   // NONE: forwarded as sent (only malformed targets are refused)
  kBase,                   // BASE (and DEFAULT): RFC 3986 normalization, "\" becomes "/"
  kMergeSlashes,           // MERGE_SLASHES: BASE, then runs of "/" merged
  kDecodeAndMergeSlashes,  // DECODE_AND_MERGE_SLASHES: "%2F" and "%5C" decoded, then as above
};

// "NONE", "BASE", "MERGE_SLASHES", "DECODE_AND_MERGE_SLASHES", and "DEFAULT" or "" (unset) for
// BASE; InvalidArgument for anything else.
absl::StatusOr<PathNormalization> parsePathNormalization(std::string_view name);
// The Istio name, "MERGE_SLASHES".
const char* pathNormalizationName(PathNormalization mode);

// Normalizes the request target `target` (an origin-form path with an optional "?query") under
// `mode` and returns it, the query appended unchanged. InvalidArgument, with the reason, when the
// request must be refused with 400. In every mode that is a target that does not start with "/"
// (so "*" and absolute forms too), that holds a "#", a NUL byte, a control character or a space,
// or whose path holds "%00". BASE and the modes above it also refuse malformed percent-encodings
// ("%zz", a "%" with fewer than two hex digits after it); BASE and MERGE_SLASHES refuse encoded
// slashes and backslashes (see above).
//
// BASE decodes the percent-encodings of unreserved characters (letters, digits, "-", ".", "_",
// "~"), writes the others with upper-case hex, turns "\" into "/" and removes dot segments as
// RFC 3986 section 5.2.4 does, after the decoding (so "%2e%2e" is ".."; ".." at the root stays at
// the root). Decoding happens once: "%252e" stays "%252e". MERGE_SLASHES then merges runs of "/";
// DECODE_AND_MERGE_SLASHES first decodes "%2F" to "/" and "%5C" to "\" (hence "/"), so
// "/a%2F..%2Fadmin" becomes "/admin".
absl::StatusOr<std::string> normalizeRequestPath(std::string_view target, PathNormalization mode);

}  // namespace ambit::waypoint
