#include "waypoint/authz/path_normalization.h"

#include <absl/status/status.h>
#include <absl/strings/str_cat.h>

#include "core/status.h"
#include "waypoint/route/text.h"

namespace ambit::waypoint {
namespace {

absl::Status refuse(std::string_view why) { return absl::InvalidArgumentError(av(why)); }

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool isUnreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Checks the bytes every mode refuses anywhere in the target.
absl::Status checkTargetBytes(std::string_view target) {
  for (const char ch : target) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '#') return refuse("the request target holds a fragment (\"#\")");
    if (c == 0) return refuse("the request target holds a NUL byte");
    if (c < 0x20 || c == 0x7f) return refuse("the request target holds a control character");
    if (c == ' ') return refuse("the request target holds a space");
  }
  return absl::OkStatus();
}

// One pass over the percent-encodings and backslashes: what is decoded is never decoded again.
absl::StatusOr<std::string> decodePath(std::string_view path, bool decode_slashes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '\\') {
      out += '/';
      continue;
    }
    if (c != '%') {
      out += c;
      continue;
    }
    if (i + 2 >= path.size()) {
      return refuse(absl::StrCat("the request path holds a truncated percent-encoding \"",
                                 av(path.substr(i)), "\""));
    }
    const int hi = hexValue(path[i + 1]);
    const int lo = hexValue(path[i + 2]);
    if (hi < 0 || lo < 0) {
      return refuse(absl::StrCat("the request path holds a malformed percent-encoding \"",
                                 av(path.substr(i, 3)), "\""));
    }
    const char decoded = static_cast<char>(hi * 16 + lo);
    if (decoded == '/' || decoded == '\\') {
      if (!decode_slashes) {
        return refuse(absl::StrCat("the request path holds an encoded ",
                                   decoded == '/' ? "slash" : "backslash", " \"",
                                   av(path.substr(i, 3)), "\""));
      }
      out += '/';
    } else if (isUnreserved(decoded)) {
      out += decoded;
    } else {
      out += '%';
      out += kHex[hi];
      out += kHex[lo];
    }
    i += 2;
  }
  return out;
}

// RFC 3986 section 5.2.4 on an absolute path: every step starts at a "/".
std::string removeDotSegments(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  const auto drop_last_segment = [&out] {
    const size_t slash = out.rfind('/');
    out.erase(slash == std::string::npos ? 0 : slash);
  };
  size_t i = 0;
  while (i < in.size()) {
    const std::string_view rest = in.substr(i);
    if (rest.starts_with("/./")) {
      i += 2;
    } else if (rest == "/.") {
      out += '/';
      break;
    } else if (rest.starts_with("/../")) {
      drop_last_segment();
      i += 3;
    } else if (rest == "/..") {
      drop_last_segment();
      out += '/';
      break;
    } else {
      const size_t next = in.find('/', i + 1);
      const size_t end = next == std::string_view::npos ? in.size() : next;
      out.append(in.substr(i, end - i));
      i = end;
    }
  }
  return out;
}

std::string mergeSlashes(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (const char c : path) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out += c;
  }
  return out;
}

}  // namespace

absl::StatusOr<PathNormalization> parsePathNormalization(std::string_view name) {
  if (name.empty() || name == "DEFAULT" || name == "BASE") return PathNormalization::kBase;
  if (name == "NONE") return PathNormalization::kNone;
  if (name == "MERGE_SLASHES") return PathNormalization::kMergeSlashes;
  if (name == "DECODE_AND_MERGE_SLASHES") return PathNormalization::kDecodeAndMergeSlashes;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown path normalization \"", av(name),
                   "\"; expected NONE, BASE, MERGE_SLASHES, DECODE_AND_MERGE_SLASHES or DEFAULT"));
}

const char* pathNormalizationName(PathNormalization mode) {
  switch (mode) {
    case PathNormalization::kNone:
      return "NONE";
    case PathNormalization::kBase:
      return "BASE";
    case PathNormalization::kMergeSlashes:
      return "MERGE_SLASHES";
    case PathNormalization::kDecodeAndMergeSlashes:
      return "DECODE_AND_MERGE_SLASHES";
  }
  return "BASE";
}

absl::StatusOr<std::string> normalizeRequestPath(std::string_view target, PathNormalization mode) {
  if (target.empty() || target.front() != '/') {
    return refuse("the request target must be a path starting with \"/\"");
  }
  AMBIT_RETURN_IF_ERROR(checkTargetBytes(target));
  const size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question);
  if (path.find("%00") != std::string_view::npos) {
    return refuse("the request path holds an encoded NUL (\"%00\")");
  }
  if (mode == PathNormalization::kNone) return std::string(target);

  AMBIT_ASSIGN_OR_RETURN(const std::string decoded,
                         decodePath(path, mode == PathNormalization::kDecodeAndMergeSlashes));
  std::string out = removeDotSegments(decoded);
  if (mode != PathNormalization::kBase) out = mergeSlashes(out);
  out.append(query);
  return out;
}

}  // namespace ambit::waypoint
