#include "control/auth/token_file_authenticator.h"

#include <cstring>

#include <absl/strings/ascii.h>
#include <absl/strings/match.h>
#include <absl/strings/str_split.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/config/validate/common.h"
#include "core/files.h"
#include "core/tls/spiffe_id.h"

namespace ambit::control::auth {
namespace {

constexpr const char* kExpected =
    "expected \"<token> node <node-name>\" or \"<token> waypoint <spiffe-id>\"";

// Tokens are compared through their SHA-256 digests: the comparison then has a fixed length and
// the table never holds a token in the clear.
bool sha256(const std::string& text, std::array<unsigned char, 32>& out) {
  unsigned int len = 0;
  return EVP_Digest(text.data(), text.size(), out.data(), &len, EVP_sha256(), nullptr) == 1 &&
         len == out.size();
}

absl::Status lineError(const std::string& path, int line, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(path, ":", line, ": ", why));
}

}  // namespace

absl::StatusOr<std::unique_ptr<TokenFileAuthenticator>> TokenFileAuthenticator::create(
    std::string path) {
  std::unique_ptr<TokenFileAuthenticator> auth(new TokenFileAuthenticator(std::move(path)));
  AMBIT_RETURN_IF_ERROR(auth->reload());
  return auth;
}

absl::Status TokenFileAuthenticator::reload() {
  AMBIT_ASSIGN_OR_RETURN(std::shared_ptr<const Table> table, readTable(path_));
  std::lock_guard<std::mutex> lock(mu_);
  table_ = std::move(table);
  return absl::OkStatus();
}

size_t TokenFileAuthenticator::tokenCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return table_ ? table_->size() : 0;
}

absl::StatusOr<std::shared_ptr<const TokenFileAuthenticator::Table>>
TokenFileAuthenticator::readTable(const std::string& path) {
  AMBIT_ASSIGN_OR_RETURN(std::string text, readFile(path, kMaxFileBytes, "token file"));
  auto table = std::make_shared<Table>();
  std::vector<int> lines;  // the line of each entry, to name both lines of a duplicate
  int number = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++number;
    const std::string line(absl::StripAsciiWhitespace(raw));
    if (line.empty() || line.front() == '#') continue;
    const std::vector<std::string> words =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (words.size() != 3) return lineError(path, number, kExpected);
    // Messages below never quote words[0]: it is the secret.
    if (words[0].size() < kMinTokenLength) {
      return lineError(path, number,
                       absl::StrCat("token is shorter than ", kMinTokenLength, " characters"));
    }
    Entry entry;
    if (words[1] == "node") {
      if (!config::validate::isDns1123Subdomain(words[2])) {
        return lineError(path, number,
                         absl::StrCat("node name \"", words[2], "\" is not a DNS-1123 subdomain"));
      }
      entry.caller.kind = Caller::Kind::kNodeAgent;
      entry.caller.node = words[2];
    } else if (words[1] == "waypoint") {
      absl::StatusOr<tls::SpiffeId> id = tls::SpiffeId::parse(words[2]);
      if (!id.ok()) return lineError(path, number, std::string(id.status().message()));
      entry.caller.kind = Caller::Kind::kWaypoint;
      entry.caller.identity = id->toString();
    } else {
      return lineError(path, number,
                       absl::StrCat("unknown caller kind \"", words[1], "\"; ", kExpected));
    }
    if (!sha256(words[0], entry.digest)) {
      return absl::InternalError(absl::StrCat(path, ":", number, ": SHA-256 failed"));
    }
    for (size_t i = 0; i < table->size(); ++i) {
      if (CRYPTO_memcmp((*table)[i].digest.data(), entry.digest.data(), entry.digest.size()) == 0) {
        return lineError(path, number, absl::StrCat("token repeats the token of line ", lines[i]));
      }
    }
    table->push_back(std::move(entry));
    lines.push_back(number);
  }
  return std::shared_ptr<const Table>(std::move(table));
}

absl::StatusOr<Caller> TokenFileAuthenticator::authenticate(
    const std::string& authorization) const {
  constexpr const char* kScheme = "bearer ";
  const std::string header(absl::StripAsciiWhitespace(authorization));
  if (header.size() <= std::string(kScheme).size() ||
      !absl::StartsWithIgnoreCase(header, kScheme)) {
    return absl::UnauthenticatedError("missing bearer token");
  }
  const std::string token(
      absl::StripLeadingAsciiWhitespace(absl::string_view(header).substr(strlen(kScheme))));
  if (token.empty()) return absl::UnauthenticatedError("missing bearer token");

  Digest digest;
  if (!sha256(token, digest)) return absl::InternalError("SHA-256 failed");
  std::shared_ptr<const Table> table;
  {
    std::lock_guard<std::mutex> lock(mu_);
    table = table_;
  }
  // Every entry is compared, so the time taken does not tell which entry (if any) matched.
  const Entry* match = nullptr;
  for (const Entry& entry : *table) {
    if (CRYPTO_memcmp(entry.digest.data(), digest.data(), digest.size()) == 0) match = &entry;
  }
  if (match == nullptr) return absl::UnauthenticatedError("unknown token");
  return match->caller;
}

}  // namespace ambit::control::auth
