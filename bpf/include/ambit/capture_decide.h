/* The capture decisions as pure functions over plain facts: compiled into the BPF programs
 * (bpf/capture.bpf.c), into a BPF test program run with BPF_PROG_TEST_RUN
 * (bpf/decide_test.bpf.c) and into the agent's C++ unit tests, which check all three agree. */
#ifndef AMBIT_BPF_CAPTURE_DECIDE_H
#define AMBIT_BPF_CAPTURE_DECIDE_H

#include "ambit/capture_abi.h"

#ifdef __cplusplus
#define AMBIT_DECIDE static inline
#else
#define AMBIT_DECIDE static __always_inline
#endif

#define AMBIT_AF_INET 2
#define AMBIT_AF_INET6 10
#define AMBIT_SOCK_STREAM 1
#define AMBIT_IPPROTO_TCP 6
#define AMBIT_LOOPBACK_IFINDEX 1
#define AMBIT_DNS_PORT 53

/* What connect4/connect6 know about a connect() call. */
struct ambit_connect_facts {
  __u32 sock_type; /* SOCK_STREAM, SOCK_DGRAM, ... */
  __u32 mark;      /* the socket's SO_MARK */
  __u16 dst_port;  /* host byte order */
  __u16 reserved;
  struct ambit_ip dst; /* IPv4 as ::ffff:a.b.c.d */
};

/* What sk_lookup knows about an incoming connection. */
struct ambit_lookup_facts {
  __u32 protocol;        /* IPPROTO_TCP, IPPROTO_UDP, ... */
  __u32 ingress_ifindex; /* the interface the packet arrived on */
  __u16 local_port;      /* host byte order */
  __u16 from_itself;     /* the source address is the destination address: the pod calls itself */
  __u32 agent_delivery;  /* the flow is in ambit_delivery: the agent connecting to the app */
};

AMBIT_DECIDE int ambit_ip_equal(const struct ambit_ip* a, const struct ambit_ip* b) {
  for (int i = 0; i < 16; i++) {
    if (a->addr[i] != b->addr[i]) return 0;
  }
  return 1;
}

AMBIT_DECIDE int ambit_ip_is_v4(const struct ambit_ip* ip) {
  for (int i = 0; i < 10; i++) {
    if (ip->addr[i] != 0) return 0;
  }
  return ip->addr[10] == 0xff && ip->addr[11] == 0xff;
}

/* 127.0.0.0/8 (also v4-mapped) or ::1. */
AMBIT_DECIDE int ambit_ip_is_loopback(const struct ambit_ip* ip) {
  if (ambit_ip_is_v4(ip)) return ip->addr[12] == 127;
  for (int i = 0; i < 15; i++) {
    if (ip->addr[i] != 0) return 0;
  }
  return ip->addr[15] == 1;
}

/* Whether connect() goes to the agent (AMBIT_CONNECT_REDIRECTED) or where the app sent it (any
 * other reason). `netns` is the socket's netns entry, NULL when it is not enrolled. */
AMBIT_DECIDE enum ambit_capture_reason ambit_decide_connect(
    const struct ambit_connect_facts* f, const struct ambit_netns_config* netns) {
  if (f->sock_type != AMBIT_SOCK_STREAM) return AMBIT_CONNECT_NOT_TCP;
  if (!netns) return AMBIT_CONNECT_NOT_ENROLLED;
  if (f->mark != 0 && (f->mark == netns->mark || f->mark == netns->route_mark)) {
    return AMBIT_CONNECT_AGENT_SOCKET;
  }
  if (ambit_ip_is_loopback(&f->dst)) return AMBIT_CONNECT_LOOPBACK;
  if ((netns->flags & AMBIT_NETNS_HAS_IP4) && ambit_ip_equal(&f->dst, &netns->ip4)) {
    return AMBIT_CONNECT_SELF;
  }
  if ((netns->flags & AMBIT_NETNS_HAS_IP6) && ambit_ip_equal(&f->dst, &netns->ip6)) {
    return AMBIT_CONNECT_SELF;
  }
  if (f->dst_port == AMBIT_DNS_PORT) return AMBIT_CONNECT_DNS;
  return AMBIT_CONNECT_REDIRECTED;
}

/* Whether an incoming connection to an enrolled pod's address goes to the agent's inbound
 * listener (AMBIT_LOOKUP_STEERED) or to whatever listens on its port (any other reason). */
AMBIT_DECIDE enum ambit_capture_reason ambit_decide_lookup(const struct ambit_lookup_facts* f,
                                                           const struct ambit_netns_config* netns) {
  if (f->protocol != AMBIT_IPPROTO_TCP) return AMBIT_LOOKUP_NOT_TCP;
  if (!netns) return AMBIT_LOOKUP_NOT_POD_ADDRESS;
  if (f->ingress_ifindex == AMBIT_LOOPBACK_IFINDEX || f->from_itself) return AMBIT_LOOKUP_LOOPBACK;
  if (f->agent_delivery) return AMBIT_LOOKUP_AGENT_DELIVERY;
  if (f->local_port == netns->hbone_port || f->local_port == netns->inbound_port ||
      f->local_port == netns->outbound_port) {
    return AMBIT_LOOKUP_AGENT_PORT;
  }
  return AMBIT_LOOKUP_STEERED;
}

#endif
