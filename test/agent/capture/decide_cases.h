// The capture decisions' test table (bpf/include/ambit/capture_decide.h), shared by
// bpf_decide_test.cc (the C++ build) and bpf_decide_root_test.cc (the same rows run in the kernel
// through bpf/decide_test.bpf.c).
#pragma once

#include <arpa/inet.h>

#include <cstring>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "ambit/capture_decide.h"
#include "ambit/decide_test_case.h"

namespace ambit::agent::testing {

struct DecideRow {
  std::string name;
  ambit_decide_case input;  // `reason` unset
  ambit_capture_reason expected;
};

// An address as the programs see it: IPv4 as ::ffff:a.b.c.d.
inline ambit_ip abiIp(const std::string& text) {
  ambit_ip ip{};
  in_addr v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    ip.addr[10] = 0xff;
    ip.addr[11] = 0xff;
    std::memcpy(&ip.addr[12], &v4, 4);
    return ip;
  }
  REQUIRE(::inet_pton(AF_INET6, text.c_str(), ip.addr) == 1);
  return ip;
}

// The pod of every enrolled row: CaptureConfig's defaults, 10.0.0.5 and fd00::5.
inline ambit_netns_config decidePodConfig() {
  ambit_netns_config c{};
  c.mark = 0x539;
  c.route_mark = 0x111;
  c.outbound_port = 15001;
  c.inbound_port = 15006;
  c.hbone_port = 15008;
  c.flags = AMBIT_NETNS_HAS_IP4 | AMBIT_NETNS_HAS_IP6;
  c.ip4 = abiIp("10.0.0.5");
  c.ip6 = abiIp("fd00::5");
  return c;
}

// A TCP connect() from the enrolled pod; `edit` changes what the row is about.
template <typename Edit>
DecideRow connectRow(std::string name, ambit_capture_reason expected, Edit edit) {
  DecideRow row{std::move(name), {}, expected};
  row.input.hook = AMBIT_DECIDE_CONNECT;
  row.input.enrolled = 1;
  row.input.netns = decidePodConfig();
  row.input.connect.sock_type = AMBIT_SOCK_STREAM;
  row.input.connect.dst_port = 80;
  row.input.connect.dst = abiIp("10.0.0.9");
  edit(row.input);
  return row;
}

// A TCP connection arriving at the enrolled pod on eth0 (ifindex 2), port 8080.
template <typename Edit>
DecideRow lookupRow(std::string name, ambit_capture_reason expected, Edit edit) {
  DecideRow row{std::move(name), {}, expected};
  row.input.hook = AMBIT_DECIDE_LOOKUP;
  row.input.enrolled = 1;
  row.input.netns = decidePodConfig();
  row.input.lookup.protocol = AMBIT_IPPROTO_TCP;
  row.input.lookup.ingress_ifindex = 2;
  row.input.lookup.local_port = 8080;
  edit(row.input);
  return row;
}

inline std::vector<DecideRow> decideRows() {
  using C = ambit_decide_case;
  return {
      // connect4 / connect6
      connectRow("connect: UDP", AMBIT_CONNECT_NOT_TCP, [](C& c) { c.connect.sock_type = 2; }),
      connectRow("connect: UDP from a netns not enrolled", AMBIT_CONNECT_NOT_TCP,
                 [](C& c) {
                   c.connect.sock_type = 2;
                   c.enrolled = 0;
                 }),
      connectRow("connect: netns not enrolled", AMBIT_CONNECT_NOT_ENROLLED,
                 [](C& c) { c.enrolled = 0; }),
      connectRow("connect: the agent's mark", AMBIT_CONNECT_AGENT_SOCKET,
                 [](C& c) { c.connect.mark = 0x539; }),
      connectRow("connect: the agent's route mark", AMBIT_CONNECT_AGENT_SOCKET,
                 [](C& c) { c.connect.mark = 0x111; }),
      connectRow("connect: another mark", AMBIT_CONNECT_REDIRECTED,
                 [](C& c) { c.connect.mark = 0x7; }),
      connectRow("connect: mark 0 while the config's mark is 0", AMBIT_CONNECT_REDIRECTED,
                 [](C& c) { c.netns.mark = 0; }),
      connectRow("connect: 127.0.0.1", AMBIT_CONNECT_LOOPBACK,
                 [](C& c) { c.connect.dst = abiIp("127.0.0.1"); }),
      connectRow("connect: 127.255.3.4", AMBIT_CONNECT_LOOPBACK,
                 [](C& c) { c.connect.dst = abiIp("127.255.3.4"); }),
      connectRow("connect: ::1", AMBIT_CONNECT_LOOPBACK,
                 [](C& c) { c.connect.dst = abiIp("::1"); }),
      connectRow("connect: v4-mapped ::ffff:127.0.0.53 on port 53", AMBIT_CONNECT_LOOPBACK,
                 [](C& c) {
                   c.connect.dst = abiIp("::ffff:127.0.0.53");
                   c.connect.dst_port = 53;
                 }),
      connectRow("connect: ::127.0.0.1 (not v4-mapped)", AMBIT_CONNECT_REDIRECTED,
                 [](C& c) { c.connect.dst = abiIp("::127.0.0.1"); }),
      connectRow("connect: 128.0.0.1", AMBIT_CONNECT_REDIRECTED,
                 [](C& c) { c.connect.dst = abiIp("128.0.0.1"); }),
      connectRow("connect: the pod's own v4 address", AMBIT_CONNECT_SELF,
                 [](C& c) { c.connect.dst = abiIp("10.0.0.5"); }),
      connectRow("connect: the pod's own v6 address", AMBIT_CONNECT_SELF,
                 [](C& c) { c.connect.dst = abiIp("fd00::5"); }),
      connectRow("connect: ip4 without AMBIT_NETNS_HAS_IP4", AMBIT_CONNECT_REDIRECTED,
                 [](C& c) {
                   c.connect.dst = abiIp("10.0.0.5");
                   c.netns.flags = AMBIT_NETNS_HAS_IP6;
                 }),
      connectRow("connect: DNS", AMBIT_CONNECT_DNS, [](C& c) { c.connect.dst_port = 53; }),
      connectRow("connect: DNS over v6", AMBIT_CONNECT_DNS,
                 [](C& c) {
                   c.connect.dst = abiIp("fd00::53");
                   c.connect.dst_port = 53;
                 }),
      connectRow("connect: port 53 in network byte order is not DNS", AMBIT_CONNECT_REDIRECTED,
                 [](C& c) { c.connect.dst_port = htons(53); }),
      connectRow("connect: plain v4", AMBIT_CONNECT_REDIRECTED, [](C&) {}),
      connectRow("connect: plain v6", AMBIT_CONNECT_REDIRECTED,
                 [](C& c) {
                   c.connect.dst = abiIp("2001:db8::9");
                   c.connect.dst_port = 443;
                 }),
      // sk_lookup
      lookupRow("lookup: UDP", AMBIT_LOOKUP_NOT_TCP, [](C& c) { c.lookup.protocol = 17; }),
      lookupRow("lookup: not a pod address", AMBIT_LOOKUP_NOT_POD_ADDRESS,
                [](C& c) { c.enrolled = 0; }),
      lookupRow("lookup: arrives on lo", AMBIT_LOOKUP_LOOPBACK,
                [](C& c) { c.lookup.ingress_ifindex = 1; }),
      lookupRow("lookup: the pod calls itself", AMBIT_LOOKUP_LOOPBACK,
                [](C& c) { c.lookup.from_itself = 1; }),
      lookupRow("lookup: on lo to the agent's port", AMBIT_LOOKUP_LOOPBACK,
                [](C& c) {
                  c.lookup.ingress_ifindex = 1;
                  c.lookup.local_port = 15006;
                }),
      lookupRow("lookup: the agent delivering", AMBIT_LOOKUP_AGENT_DELIVERY,
                [](C& c) { c.lookup.agent_delivery = 1; }),
      lookupRow("lookup: HBONE port", AMBIT_LOOKUP_AGENT_PORT,
                [](C& c) { c.lookup.local_port = 15008; }),
      lookupRow("lookup: inbound port", AMBIT_LOOKUP_AGENT_PORT,
                [](C& c) { c.lookup.local_port = 15006; }),
      lookupRow("lookup: outbound port", AMBIT_LOOKUP_AGENT_PORT,
                [](C& c) { c.lookup.local_port = 15001; }),
      lookupRow("lookup: steered", AMBIT_LOOKUP_STEERED, [](C&) {}),
      lookupRow("lookup: steered on port 53", AMBIT_LOOKUP_STEERED,
                [](C& c) { c.lookup.local_port = 53; }),
  };
}

// The decision of `c` as the C++ build makes it.
inline ambit_capture_reason decideInProcess(const ambit_decide_case& c) {
  const ambit_netns_config* netns = c.enrolled ? &c.netns : nullptr;
  return c.hook == AMBIT_DECIDE_CONNECT ? ambit_decide_connect(&c.connect, netns)
                                        : ambit_decide_lookup(&c.lookup, netns);
}

}  // namespace ambit::agent::testing
