#include "control/xds/resources.h"

#include <array>
#include <cstdint>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <openssl/evp.h>

namespace ambit::control::xds {
namespace {

// Protobuf's default serialization may order map entries differently from run to run; a version
// must only change when the content does, also across restarts of the control plane, so that a
// reconnecting client's initial_resource_versions still match.
std::string deterministicBytes(const google::protobuf::Message& body) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    body.SerializeWithCachedSizes(&coded);
  }
  return out;
}

// The first 64 bits of SHA-256 over type URL and body, as 16 hex digits. A keyed or per-process
// hash (absl::Hash) would not survive a restart.
std::string versionOf(const std::string& type_url, const std::string& bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx, type_url.data(), type_url.size());
  const unsigned char separator = 0;
  EVP_DigestUpdate(ctx, &separator, 1);
  EVP_DigestUpdate(ctx, bytes.data(), bytes.size());
  EVP_DigestFinal_ex(ctx, digest.data(), &length);
  EVP_MD_CTX_free(ctx);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string version;
  version.reserve(16);
  for (size_t i = 0; i < 8; ++i) {
    version.push_back(kHex[digest[i] >> 4]);
    version.push_back(kHex[digest[i] & 0xf]);
  }
  return version;
}

}  // namespace

ResourcePtr makeResource(std::string name, const google::protobuf::Message& body) {
  auto resource = std::make_shared<Resource>();
  resource->name = std::move(name);
  body.ByteSizeLong();  // SerializeWithCachedSizes needs the sizes cached
  resource->body.set_type_url("type.googleapis.com/" + body.GetDescriptor()->full_name());
  resource->body.set_value(deterministicBytes(body));
  resource->version = versionOf(resource->body.type_url(), resource->body.value());
  return resource;
}

}  // namespace ambit::control::xds
