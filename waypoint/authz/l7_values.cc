#include "waypoint/authz/l7_values.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include <absl/status/status.h>
#include <absl/strings/numbers.h>
#include <absl/strings/str_cat.h>

#include "waypoint/route/text.h"

namespace ambit::waypoint {
namespace {

bool endsWithIgnoreCase(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         equalsIgnoreCase(text.substr(text.size() - suffix.size()), suffix);
}

constexpr std::array<uint8_t, 12> kV4MappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool isV4Mapped(const std::array<uint8_t, 16>& bytes) {
  return std::equal(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), bytes.begin());
}

}  // namespace

ValueMatcher::ValueMatcher(std::string_view value, bool ignore_case) : ignore_case_(ignore_case) {
  if (value == "*") {
    kind_ = Kind::kAny;
  } else if (value.starts_with('*')) {
    kind_ = Kind::kSuffix;
    text_ = value.substr(1);
  } else if (value.ends_with('*')) {
    kind_ = Kind::kPrefix;
    text_ = value.substr(0, value.size() - 1);
  } else {
    kind_ = Kind::kExact;
    text_ = value;
  }
}

bool ValueMatcher::matches(std::string_view value) const {
  switch (kind_) {
    case Kind::kAny:
      return true;
    case Kind::kExact:
      return ignore_case_ ? equalsIgnoreCase(value, text_) : value == text_;
    case Kind::kPrefix:
      return ignore_case_ ? startsWithIgnoreCase(value, text_) : value.starts_with(text_);
    case Kind::kSuffix:
      return ignore_case_ ? endsWithIgnoreCase(value, text_) : value.ends_with(text_);
  }
  return false;
}

absl::StatusOr<PathMatcher> PathMatcher::compile(std::string_view value) {
  if (value.find("{*}") == std::string_view::npos && value.find("{**}") == std::string_view::npos) {
    return PathMatcher(ValueMatcher(value));
  }
  const auto invalid = [value](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("path template \"", av(value), "\" is invalid: ", av(why)));
  };
  if (!value.starts_with('/')) return invalid("it must start with \"/\"");
  std::vector<Piece> pieces;
  std::string literal;
  bool rest_seen = false;
  size_t start = 1;
  while (true) {
    const size_t slash = value.find('/', start);
    const std::string_view segment = value.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    literal += '/';
    if (segment == "{*}" || segment == "{**}") {
      if (rest_seen) return invalid("{**} must be the last operator");
      pieces.push_back({Piece::Kind::kLiteral, std::move(literal)});
      literal.clear();
      const bool rest = segment == "{**}";
      pieces.push_back({rest ? Piece::Kind::kRest : Piece::Kind::kSegment, ""});
      rest_seen = rest_seen || rest;
    } else if (segment.find_first_of("*{}") != std::string_view::npos) {
      return invalid(
          absl::StrCat("segment \"", av(segment), "\" is neither {*}, {**} nor a literal"));
    } else {
      literal += segment;
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (!literal.empty()) pieces.push_back({Piece::Kind::kLiteral, std::move(literal)});
  return PathMatcher(std::move(pieces));
}

bool PathMatcher::matches(std::string_view path) const {
  if (pieces_.empty()) return value_.matches(path);
  size_t pos = 0;
  for (size_t i = 0; i < pieces_.size(); ++i) {
    const Piece& piece = pieces_[i];
    const std::string_view rest = path.substr(pos);
    switch (piece.kind) {
      case Piece::Kind::kLiteral:
        if (!rest.starts_with(piece.literal)) return false;
        pos += piece.literal.size();
        break;
      case Piece::Kind::kSegment: {
        const size_t end = std::min(rest.find('/'), rest.size());
        if (end == 0) return false;
        pos += end;
        break;
      }
      case Piece::Kind::kRest: {
        // Only a literal can follow, and consecutive literals are one piece.
        if (i + 1 == pieces_.size()) return true;
        const std::string& tail = pieces_[i + 1].literal;
        return rest.size() >= tail.size() && rest.ends_with(tail);
      }
    }
  }
  return pos == path.size();
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  // Long enough for any IPv6 literal; inet_pton wants a terminated string.
  char buffer[64];
  if (text.empty() || text.size() >= sizeof(buffer)) return std::nullopt;
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  IpAddress out;
  if (inet_pton(AF_INET, buffer, out.bytes.data()) == 1) return out;
  if (inet_pton(AF_INET6, buffer, out.bytes.data()) != 1) return std::nullopt;
  if (isV4Mapped(out.bytes)) {
    std::copy(out.bytes.begin() + 12, out.bytes.end(), out.bytes.begin());
    std::fill(out.bytes.begin() + 4, out.bytes.end(), 0);
    return out;
  }
  out.v6 = true;
  return out;
}

std::optional<IpRange> IpRange::parse(std::string_view text) {
  const size_t slash = text.find('/');
  IpRange out;
  // The mapped form of the address is kept apart: its prefix counts IPv6 bits.
  const std::string_view address = text.substr(0, slash);
  std::optional<IpAddress> base = IpAddress::parse(address);
  if (!base) return std::nullopt;
  const bool mapped = !base->v6 && address.find(':') != std::string_view::npos;
  const int bits = base->v6 || mapped ? 128 : 32;
  int prefix = bits;
  if (slash != std::string_view::npos) {
    const std::string_view length = text.substr(slash + 1);
    if (length.empty() || length.size() > 3 ||
        !std::all_of(length.begin(), length.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        !absl::SimpleAtoi(av(length), &prefix) || prefix > bits) {
      return std::nullopt;
    }
  }
  if (mapped) {
    // "::ffff:10.0.0.0/104" is 10.0.0.0/8; a shorter prefix reaches past the mapped block, whose
    // addresses are all IPv4 here, so it covers every IPv4 address.
    prefix = std::max(prefix - 96, 0);
  }
  out.base = *base;
  out.prefix = prefix;
  return out;
}

bool IpRange::contains(const IpAddress& ip) const {
  if (ip.v6 != base.v6) return false;
  const int full = prefix / 8;
  if (!std::equal(base.bytes.begin(), base.bytes.begin() + full, ip.bytes.begin())) return false;
  const int rest = prefix % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (base.bytes[full] & mask) == (ip.bytes[full] & mask);
}

}  // namespace ambit::waypoint
