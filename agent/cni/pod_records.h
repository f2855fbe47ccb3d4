// The pod record directory: one file per pod (`<dir>/<key>.json`, protobuf JSON of PodInfo),
// written by ambit-cni on ADD and removed on DEL. The agent lists it at start to rediscover the
// pods it already served and to enroll pods added while it was down.
#pragma once

#include <string>
#include <vector>

#include <absl/strings/string_view.h>

#include "ambit/cni/v1/cni.pb.h"
#include "core/status.h"

namespace ambit::agent::cni {

// The record directory when the network config names none.
inline constexpr char kDefaultPodDir[] = "/var/run/ambit/pods";

class PodRecords {
 public:
  explicit PodRecords(std::string dir);

  const std::string& dir() const { return dir_; }

  // The record file of the pod with this uid. The file name is the uid when it is made of
  // [A-Za-z0-9_-] only (Kubernetes UIDs are); other bytes are %XX-escaped, and over-long names
  // are shortened and suffixed with a hash, so no uid can escape the directory.
  std::string pathFor(absl::string_view uid) const;

  // Writes the record of `pod` (keyed by pod.uid(), which must not be empty) atomically: a temp
  // file in the directory, fsync, rename, mode 0600. Creates the directory (0700) when missing.
  absl::Status write(const ambit::cni::v1::PodInfo& pod) const;

  // Removes the record of `uid`; a missing record is not an error.
  absl::Status remove(absl::string_view uid) const;

  // Reads the record of `uid` (NotFound when there is none).
  absl::StatusOr<ambit::cni::v1::PodInfo> read(absl::string_view uid) const;

  // Every readable record, in file name order. Unreadable or malformed files are logged and
  // skipped; a missing directory yields no records.
  absl::StatusOr<std::vector<ambit::cni::v1::PodInfo>> list() const;

 private:
  std::string dir_;
};

// The key of a pod's record: its Kubernetes uid when known, else "<namespace>/<name>", else the
// container id.
std::string podKey(absl::string_view uid, absl::string_view pod_namespace, absl::string_view name,
                   absl::string_view container_id);

}  // namespace ambit::agent::cni
