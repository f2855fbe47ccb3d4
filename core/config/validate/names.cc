// Names and addresses: DNS labels and subdomains, Istio's host names with wildcards, IP addresses
// and CIDR blocks, port names and protocols.
#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <vector>

#include <absl/strings/str_cat.h>
#include <absl/strings/str_split.h>

#include "core/config/validate/common.h"

namespace ambit::config::validate {
namespace {

bool isAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

bool isLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool isDigits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Istio's wildcard label: "*", or a DNS label prefixed by "*" or "*-".
bool isWildcardLabel(const std::string& value) {
  if (value.size() > 63) return false;
  if (value == "*") return true;
  if (value.rfind("*-", 0) == 0) return isIstioDnsLabel(value.substr(2));
  if (value.rfind('*', 0) == 0) return isIstioDnsLabel(value.substr(1));
  return isIstioDnsLabel(value);
}

std::string labelProblem(const std::string& label) {
  if (label.find('*') != std::string::npos) {
    return "\"*\" may appear only at the start of the first label";
  }
  if (label.empty()) return "it has an empty label";
  if (label.size() > 63) return absl::StrCat("label ", q(label), " is longer than 63 characters");
  return absl::StrCat("label ", q(label),
                      " is not a DNS label (letters, digits and '-', starting and ending with a "
                      "letter or digit)");
}

// Istio's check of the labels of a domain after any wildcard label: a trailing dot is allowed,
// the top-level domain must not be all digits.
std::string labelsProblem(const std::string& domain) {
  const std::vector<std::string> parts = absl::StrSplit(domain, '.');
  if (isDigits(parts.back())) {
    return absl::StrCat("top-level domain ", q(parts.back()), " must not be all digits");
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i + 1 == parts.size() && parts[i].empty() && i > 0) break;  // "istio.io."
    if (!isIstioDnsLabel(parts[i])) return labelProblem(parts[i]);
  }
  return "";
}

}  // namespace

bool isIstioDnsLabel(const std::string& value) {
  if (value.empty() || value.size() > 63) return false;
  if (!isAlnum(value.front()) || !isAlnum(value.back())) return false;
  return std::all_of(value.begin(), value.end(), [](char c) { return isAlnum(c) || c == '-'; });
}

bool isDns1035Label(const std::string& value) {
  return isDns1123Label(value) && value.front() >= 'a' && value.front() <= 'z';
}

bool isIanaServiceName(const std::string& value) {
  if (value.empty() || value.size() > 15) return false;
  if (value.front() == '-' || value.back() == '-' || value.find("--") != std::string::npos) {
    return false;
  }
  bool letter = false;
  for (const char c : value) {
    if (!isLowerAlnum(c) && c != '-') return false;
    letter = letter || (c >= 'a' && c <= 'z');
  }
  return letter;
}

bool isIpAddress(const std::string& value) {
  unsigned char buffer[16];
  if (value.find(':') != std::string::npos) return inet_pton(AF_INET6, value.c_str(), buffer) == 1;
  return inet_pton(AF_INET, value.c_str(), buffer) == 1;
}

bool isCidr(const std::string& value) {
  const size_t slash = value.find('/');
  if (slash == std::string::npos) return false;
  const std::string address = value.substr(0, slash);
  const std::string bits = value.substr(slash + 1);
  if (!isIpAddress(address) || !isDigits(bits) || bits.size() > 3) return false;
  if (bits.size() > 1 && bits[0] == '0') return false;
  const int n = std::stoi(bits);
  return n <= (address.find(':') != std::string::npos ? 128 : 32);
}

bool isIpOrCidr(const std::string& value) {
  return value.find('/') != std::string::npos ? isCidr(value) : isIpAddress(value);
}

bool isHttpHeaderName(const std::string& value) {
  static const std::string kSpecials = "!#$%&'*+-.^_`|~";
  return !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
    return isAlnum(c) || kSpecials.find(c) != std::string::npos;
  });
}

std::string protocolName(const std::string& protocol) {
  static const char* const kNames[] = {"tcp",   "udp",   "grpc", "grpc-web", "http",  "http_proxy",
                                       "http2", "https", "tls",  "mongo",    "redis", "mysql"};
  std::string lower = protocol;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  for (const char* name : kNames) {
    if (lower == name) return lower;
  }
  return "";
}

bool isHttpProtocol(const std::string& name) {
  return name == "http" || name == "http2" || name == "http_proxy" || name == "grpc" ||
         name == "grpc-web";
}

bool isTlsProtocol(const std::string& name) { return name == "https" || name == "tls"; }

bool isWildcarded(const std::string& host) { return !host.empty() && host[0] == '*'; }

std::string dnsNameProblem(const std::string& name, bool wildcard) {
  if (name.empty()) return "it is empty";
  if (name.size() > 255) return "it is longer than 255 characters";
  if (!wildcard) return labelsProblem(name);
  const size_t dot = name.find('.');
  const std::string first = name.substr(0, dot);
  if (!isWildcardLabel(first)) return labelProblem(first);
  if (dot == std::string::npos) return "";
  return labelsProblem(name.substr(dot + 1));
}

bool hostsOverlap(const std::string& a, const std::string& b) {
  const auto endsWith = [](const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (isWildcarded(a)) {
    if (isWildcarded(b)) {
      return a.size() < b.size() ? endsWith(b.substr(1), a.substr(1))
                                 : endsWith(a.substr(1), b.substr(1));
    }
    return endsWith(b, a.substr(1));
  }
  if (isWildcarded(b)) return endsWith(a, b.substr(1));
  return a == b;
}

bool hostSubsetOf(const std::string& a, const std::string& b) {
  const auto endsWith = [](const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (isWildcarded(a)) {
    return isWildcarded(b) && a.size() >= b.size() && endsWith(a.substr(1), b.substr(1));
  }
  if (isWildcarded(b)) return endsWith(a, b.substr(1));
  return a == b;
}

}  // namespace ambit::config::validate
