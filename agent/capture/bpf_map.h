// A typed handle on one map of the capture's BPF object: keys and values are the ABI structs of
// bpf/include/ambit/capture_abi.h, so a call with the wrong type does not compile. Errors are the
// kernel's errno values (0 on success).
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstddef>
#include <optional>
#include <vector>

namespace ambit::agent {

template <typename Key, typename Value>
class BpfMap {
 public:
  explicit BpfMap(const bpf_map* map) : fd_(bpf_map__fd(map)) {}

  // 0, or the errno of the update (E2BIG when the map is full).
  int update(const Key& key, const Value& value) const {
    return bpf_map_update_elem(fd_, &key, &value, BPF_ANY) == 0 ? 0 : errno;
  }
  std::optional<Value> lookup(const Key& key) const {
    Value value{};
    if (bpf_map_lookup_elem(fd_, &key, &value) != 0) return std::nullopt;
    return value;
  }
  // Whether the key was there.
  bool erase(const Key& key) const { return bpf_map_delete_elem(fd_, &key) == 0; }
  // Up to `limit` keys, in the kernel's order.
  std::vector<Key> keys(size_t limit) const {
    std::vector<Key> out;
    Key next{};
    const Key* previous = nullptr;
    while (out.size() < limit && bpf_map_get_next_key(fd_, previous, &next) == 0) {
      out.push_back(next);
      previous = &out.back();
    }
    return out;
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

}  // namespace ambit::agent
