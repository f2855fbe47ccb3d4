#include "agent/cni/pod_records.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include <absl/strings/match.h>
#include <google/protobuf/util/json_util.h>

#include "agent/cni/files.h"
#include "core/log.h"
#include "core/unique_fd.h"

namespace ambit::agent::cni {
namespace {

constexpr char kSuffix[] = ".json";
constexpr std::size_t kMaxStemBytes = 200;
// Records are a few hundred bytes; anything much larger is not one.
constexpr std::size_t kMaxRecordBytes = 64 * 1024;

bool plainByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// FNV-1a: stable across builds and platforms, enough to keep shortened names apart.
uint64_t fnv1a(absl::string_view text) {
  uint64_t hash = 14695981039346656037ULL;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return hash;
}

std::string fileStem(absl::string_view uid) {
  std::string stem;
  for (const char c : uid) {
    if (plainByte(c)) {
      stem += c;
    } else {
      char escaped[4];
      std::snprintf(escaped, sizeof(escaped), "%%%02X", static_cast<unsigned char>(c));
      stem += escaped;
    }
  }
  if (stem.size() > kMaxStemBytes) {
    char hash[24];
    std::snprintf(hash, sizeof(hash), "~%016llx", static_cast<unsigned long long>(fnv1a(uid)));
    stem = stem.substr(0, kMaxStemBytes - 17) + hash;
  }
  return stem;
}

absl::Status writeAll(int fd, const std::string& bytes, const std::string& path) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("write ", path, ": ", errnoText(errno)));
    }
    done += static_cast<std::size_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<ambit::cni::v1::PodInfo> readRecord(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) {
    const int err = errno;
    if (err == ENOENT) return absl::NotFoundError(absl::StrCat("read ", path, ": no such record"));
    return absl::InternalError(absl::StrCat("read ", path, ": ", errnoText(err)));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return absl::InternalError(absl::StrCat("stat ", path, ": ", errnoText(errno)));
  }
  if (!S_ISREG(st.st_mode) || st.st_size > static_cast<off_t>(kMaxRecordBytes)) {
    return absl::DataLossError(
        absl::StrCat("read ", path, ": not a regular file of at most ", kMaxRecordBytes, " bytes"));
  }
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::InternalError(absl::StrCat("read ", path, ": ", errnoText(errno)));
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > kMaxRecordBytes) {
      return absl::DataLossError(absl::StrCat("read ", path, ": larger than ", kMaxRecordBytes));
    }
  }
  ambit::cni::v1::PodInfo pod;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  const auto parsed = google::protobuf::util::JsonStringToMessage(text, &pod, options);
  if (!parsed.ok()) {
    return absl::DataLossError(absl::StrCat("parse ", path, ": ", parsed.ToString()));
  }
  if (pod.uid().empty()) return absl::DataLossError(absl::StrCat("parse ", path, ": no uid"));
  return pod;
}

}  // namespace

std::string podKey(absl::string_view uid, absl::string_view pod_namespace, absl::string_view name,
                   absl::string_view container_id) {
  if (!uid.empty()) return std::string(uid);
  if (!pod_namespace.empty() || !name.empty()) return absl::StrCat(pod_namespace, "/", name);
  return std::string(container_id);
}

PodRecords::PodRecords(std::string dir) : dir_(std::move(dir)) {}

std::string PodRecords::pathFor(absl::string_view uid) const {
  return absl::StrCat(dir_, "/", fileStem(uid), kSuffix);
}

absl::Status PodRecords::write(const ambit::cni::v1::PodInfo& pod) const {
  if (pod.uid().empty()) return absl::InvalidArgumentError("pod record: the pod has no uid");
  AMBIT_RETURN_IF_ERROR(makeDirectories(dir_, 0700));

  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  const auto printed = google::protobuf::util::MessageToJsonString(pod, &json, options);
  if (!printed.ok()) {
    return absl::InternalError(absl::StrCat("pod record ", pod.uid(), ": ", printed.ToString()));
  }
  json += "\n";

  const std::string path = pathFor(pod.uid());
  std::string temp = absl::StrCat(dir_, "/.", fileStem(pod.uid()), ".XXXXXX");
  UniqueFd fd(::mkostemp(temp.data(), O_CLOEXEC));
  if (!fd) return absl::InternalError(absl::StrCat("create ", temp, ": ", errnoText(errno)));
  bool renamed = false;
  struct TempCleanup {
    const std::string& path;
    const bool& renamed;
    ~TempCleanup() {
      if (!renamed) ::unlink(path.c_str());
    }
  } cleanup{temp, renamed};

  if (::fchmod(fd.get(), 0600) != 0) {
    return absl::InternalError(absl::StrCat("chmod ", temp, ": ", errnoText(errno)));
  }
  AMBIT_RETURN_IF_ERROR(writeAll(fd.get(), json, temp));
  if (::fsync(fd.get()) != 0) {
    return absl::InternalError(absl::StrCat("fsync ", temp, ": ", errnoText(errno)));
  }
  if (::close(fd.release()) != 0) {
    return absl::InternalError(absl::StrCat("close ", temp, ": ", errnoText(errno)));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("rename ", temp, " to ", path, ": ", errnoText(errno)));
  }
  renamed = true;
  // Make the rename itself durable.
  UniqueFd dir_fd(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd) ::fsync(dir_fd.get());
  return absl::OkStatus();
}

absl::Status PodRecords::remove(absl::string_view uid) const {
  const std::string path = pathFor(uid);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return absl::InternalError(absl::StrCat("remove ", path, ": ", errnoText(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<ambit::cni::v1::PodInfo> PodRecords::read(absl::string_view uid) const {
  return readRecord(pathFor(uid));
}

absl::StatusOr<std::vector<ambit::cni::v1::PodInfo>> PodRecords::list() const {
  std::vector<ambit::cni::v1::PodInfo> pods;
  DIR* dir = ::opendir(dir_.c_str());
  if (dir == nullptr) {
    if (errno == ENOENT) return pods;
    return absl::InternalError(absl::StrCat("list ", dir_, ": ", errnoText(errno)));
  }
  std::vector<std::string> names;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    // Temp files of writes in progress start with a dot.
    if (name.empty() || name[0] == '.' || !absl::EndsWith(name, kSuffix)) continue;
    names.push_back(name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());

  auto logger = ambit::log::get("cni");
  for (const std::string& name : names) {
    auto pod = readRecord(absl::StrCat(dir_, "/", name));
    if (absl::IsNotFound(pod.status())) continue;  // removed by a DEL since readdir
    if (!pod.ok()) {
      logger->warn("skipping pod record: {}", std::string(pod.status().message()));
      continue;
    }
    pods.push_back(*std::move(pod));
  }
  return pods;
}

}  // namespace ambit::agent::cni
