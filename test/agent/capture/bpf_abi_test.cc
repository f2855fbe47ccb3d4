// The capture ABI (bpf/include/ambit/capture_abi.h) as compiled into the BPF objects agrees with
// the C++ view: struct sizes and member offsets from the objects' BTF, and the maps' key and value
// sizes. Opening a skeleton only parses its ELF: no root needed.
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "agent/capture/bpf_reasons.h"
#include "ambit/capture_abi.h"
#include "ambit/decide_test_case.h"
#include "bpf/capture.skel.h"
#include "bpf/decide_test.skel.h"

namespace ambit::agent {
namespace {

struct Member {
  std::string name;
  size_t offset;
  size_t size;
};
struct Layout {
  std::string name;
  size_t size;
  std::vector<Member> members;  // all of them, in any order
};
#define MEMBER(S, m) \
  Member { #m, offsetof(S, m), sizeof(S::m) }
#define LAYOUT(S, ...)             \
  Layout {                         \
#S, sizeof(S), { __VA_ARGS__ } \
  }

// The structs the capture object's maps use as keys and values.
const std::vector<Layout> kMapStructs = {
    LAYOUT(ambit_ip, MEMBER(ambit_ip, addr)),
    LAYOUT(ambit_netns_config, MEMBER(ambit_netns_config, mark),
           MEMBER(ambit_netns_config, route_mark), MEMBER(ambit_netns_config, outbound_port),
           MEMBER(ambit_netns_config, inbound_port), MEMBER(ambit_netns_config, hbone_port),
           MEMBER(ambit_netns_config, flags), MEMBER(ambit_netns_config, ip4),
           MEMBER(ambit_netns_config, ip6)),
    LAYOUT(ambit_pod, MEMBER(ambit_pod, netns_cookie)),
    LAYOUT(ambit_orig_dst, MEMBER(ambit_orig_dst, ip), MEMBER(ambit_orig_dst, port),
           MEMBER(ambit_orig_dst, family), MEMBER(ambit_orig_dst, reserved)),
    LAYOUT(ambit_peer_key, MEMBER(ambit_peer_key, netns_cookie), MEMBER(ambit_peer_key, ip),
           MEMBER(ambit_peer_key, port), MEMBER(ambit_peer_key, reserved16),
           MEMBER(ambit_peer_key, reserved32)),
    LAYOUT(ambit_flow_key, MEMBER(ambit_flow_key, src), MEMBER(ambit_flow_key, dst),
           MEMBER(ambit_flow_key, src_port), MEMBER(ambit_flow_key, dst_port),
           MEMBER(ambit_flow_key, reserved)),
};

// The decide_test program's context and the facts inside it.
const std::vector<Layout> kDecideStructs = {
    LAYOUT(ambit_decide_case, MEMBER(ambit_decide_case, hook), MEMBER(ambit_decide_case, enrolled),
           MEMBER(ambit_decide_case, netns), MEMBER(ambit_decide_case, connect),
           MEMBER(ambit_decide_case, lookup), MEMBER(ambit_decide_case, reason),
           MEMBER(ambit_decide_case, reserved)),
    LAYOUT(ambit_connect_facts, MEMBER(ambit_connect_facts, sock_type),
           MEMBER(ambit_connect_facts, mark), MEMBER(ambit_connect_facts, dst_port),
           MEMBER(ambit_connect_facts, reserved), MEMBER(ambit_connect_facts, dst)),
    LAYOUT(ambit_lookup_facts, MEMBER(ambit_lookup_facts, protocol),
           MEMBER(ambit_lookup_facts, ingress_ifindex), MEMBER(ambit_lookup_facts, local_port),
           MEMBER(ambit_lookup_facts, from_itself), MEMBER(ambit_lookup_facts, agent_delivery)),
};

#undef MEMBER
#undef LAYOUT

// Checks `layout` against the struct of the same name in `btf`.
void checkLayout(const btf* btf, const Layout& layout) {
  INFO("struct " << layout.name);
  const int id = btf__find_by_name_kind(btf, layout.name.c_str(), BTF_KIND_STRUCT);
  REQUIRE(id > 0);
  const btf_type* t = btf__type_by_id(btf, static_cast<uint32_t>(id));
  CHECK(t->size == layout.size);
  std::map<std::string, std::pair<uint32_t, int64_t>> in_btf;  // name: byte offset, size
  const btf_member* m = btf_members(t);
  for (uint16_t i = 0; i < btf_vlen(t); ++i) {
    CHECK(btf_member_bitfield_size(t, i) == 0);
    CHECK(btf_member_bit_offset(t, i) % 8 == 0);
    in_btf[btf__name_by_offset(btf, m[i].name_off)] = {btf_member_bit_offset(t, i) / 8,
                                                       btf__resolve_size(btf, m[i].type)};
  }
  CHECK(in_btf.size() == layout.members.size());
  for (const Member& member : layout.members) {
    INFO("member " << member.name);
    const auto found = in_btf.find(member.name);
    REQUIRE(found != in_btf.end());
    CHECK(found->second.first == member.offset);
    CHECK(found->second.second == static_cast<int64_t>(member.size));
  }
}

using CaptureSkeleton = std::unique_ptr<ambit_capture, void (*)(ambit_capture*)>;

CaptureSkeleton openCapture() {
  CaptureSkeleton skel(ambit_capture__open(), ambit_capture__destroy);
  if (!skel) FAIL("open bpf/capture.bpf.c: " << std::strerror(errno));
  return skel;
}

TEST_CASE("the capture object's BTF has the C++ layout of every ABI struct", "[capture][bpf]") {
  CaptureSkeleton skel = openCapture();
  const btf* btf = bpf_object__btf(skel->obj);
  REQUIRE(btf != nullptr);
  for (const Layout& layout : kMapStructs) checkLayout(btf, layout);
}

TEST_CASE("the decide_test object's BTF has the C++ layout of its context", "[capture][bpf]") {
  std::unique_ptr<ambit_decide_test, void (*)(ambit_decide_test*)> skel(ambit_decide_test__open(),
                                                                        ambit_decide_test__destroy);
  if (!skel) FAIL("open bpf/decide_test.bpf.c: " << std::strerror(errno));
  const btf* btf = bpf_object__btf(skel->obj);
  REQUIRE(btf != nullptr);
  for (const Layout& layout : kDecideStructs) checkLayout(btf, layout);
}

TEST_CASE("the capture maps' keys and values have the C++ sizes", "[capture][bpf]") {
  struct MapAbi {
    size_t key;
    size_t value;
  };
  const std::map<std::string, MapAbi> expected = {
      {AMBIT_MAP_NETNS, {sizeof(uint64_t), sizeof(ambit_netns_config)}},
      {AMBIT_MAP_PODS, {sizeof(ambit_ip), sizeof(ambit_pod)}},
      {AMBIT_MAP_LISTEN, {sizeof(ambit_ip), sizeof(uint64_t)}},
      {AMBIT_MAP_SOCK_DST, {sizeof(uint64_t), sizeof(ambit_orig_dst)}},
      {AMBIT_MAP_PEER_DST, {sizeof(ambit_peer_key), sizeof(ambit_orig_dst)}},
      {AMBIT_MAP_DELIVERY, {sizeof(ambit_flow_key), sizeof(uint8_t)}},
      {AMBIT_MAP_FAST, {sizeof(ambit_flow_key), sizeof(uint64_t)}},
      {AMBIT_MAP_COUNTERS, {sizeof(uint32_t), sizeof(uint64_t)}},
  };
  CaptureSkeleton skel = openCapture();
  std::set<std::string> seen;
  const bpf_map* map = nullptr;
  bpf_object__for_each_map(map, skel->obj) {
    const std::string name = bpf_map__name(map);
    INFO("map " << name);
    CHECK_FALSE(bpf_map__is_internal(map));  // no global data
    const auto found = expected.find(name);
    REQUIRE(found != expected.end());
    seen.insert(name);
    CHECK(bpf_map__key_size(map) == found->second.key);
    CHECK(bpf_map__value_size(map) == found->second.value);
    if (name == AMBIT_MAP_COUNTERS) CHECK(bpf_map__max_entries(map) == AMBIT_CAPTURE_REASON_COUNT);
    CHECK(name.size() <= 15);  // the kernel keeps 15 characters of a map's name
  }
  CHECK(seen.size() == expected.size());
}

TEST_CASE("every decision reason has its own hook and label", "[capture][bpf]") {
  std::set<std::pair<std::string, std::string>> names;
  for (uint32_t r = 0; r < AMBIT_CAPTURE_REASON_COUNT; ++r) {
    INFO("reason " << r);
    const std::string hook = bpfReasonHook(r);
    const std::string label = bpfReasonLabel(r);
    CHECK(hook != "unknown");
    CHECK(label != "unknown");
    CHECK_FALSE(label.empty());
    names.emplace(hook, label);
  }
  CHECK(names.size() == AMBIT_CAPTURE_REASON_COUNT);
  CHECK(std::string(bpfReasonLabel(AMBIT_CAPTURE_REASON_COUNT)) == "unknown");
}

}  // namespace
}  // namespace ambit::agent
