/* The capture ABI: the maps' keys and values and the decision reasons, shared by the BPF programs
 * (bpf/capture.bpf.c) and the agent's loader (agent/capture/bpf_capture.cc). C, so both compilers
 * read the same text; test/agent/capture/bpf_abi_test.cc checks that the compiled object's BTF
 * agrees with the C++ view of every struct. Addresses are 16 bytes, IPv4 as ::ffff:a.b.c.d;
 * addresses and ports are in network byte order unless a field says otherwise. */
#ifndef AMBIT_BPF_CAPTURE_ABI_H
#define AMBIT_BPF_CAPTURE_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Map names (at most 15 characters: the kernel truncates longer ones). */
#define AMBIT_MAP_NETNS "ambit_netns"
#define AMBIT_MAP_PODS "ambit_pods"
#define AMBIT_MAP_LISTEN "ambit_listen"
#define AMBIT_MAP_SOCK_DST "ambit_sock_dst"
#define AMBIT_MAP_PEER_DST "ambit_peer_dst"
#define AMBIT_MAP_COUNTERS "ambit_counters"
#define AMBIT_MAP_DELIVERY "ambit_delivery"
#define AMBIT_MAP_FAST "ambit_fast"

/* SO_ORIGINAL_DST (SOL_IP) and IP6T_SO_ORIGINAL_DST (SOL_IPV6) share this option number. */
#define AMBIT_SO_ORIGINAL_DST 80

/* What a capture program decided, counted per CPU in ambit_counters (one slot each). The agent
 * exports them as ambit_capture_decisions_total{hook,reason}; keep agent/capture/bpf_reasons.cc
 * in step. */
enum ambit_capture_reason {
  /* cgroup/connect4 and connect6 */
  AMBIT_CONNECT_REDIRECTED = 0, /* sent to the agent's outbound listener */
  AMBIT_CONNECT_NOT_TCP,        /* UDP and other socket types are never captured */
  AMBIT_CONNECT_NOT_ENROLLED,   /* the socket's netns is not an enrolled pod's */
  AMBIT_CONNECT_AGENT_SOCKET,   /* carries one of the agent's marks */
  AMBIT_CONNECT_LOOPBACK,       /* to 127.0.0.0/8 or ::1 */
  AMBIT_CONNECT_SELF,           /* to one of the pod's own addresses */
  AMBIT_CONNECT_DNS,            /* to port 53 */
  AMBIT_CONNECT_TABLE_FULL,     /* refused (EPERM): the original destination could not be kept */
  /* sockops */
  AMBIT_SOCKOPS_REKEYED,    /* an original destination moved from cookie to client address */
  AMBIT_SOCKOPS_TABLE_FULL, /* could not re-key: the agent will refuse the connection */
  AMBIT_SOCKOPS_DELIVERY,   /* the agent connects to a pod's app: filed for sk_lookup */
  AMBIT_SOCKOPS_FAST_PATH,  /* a socket of an app-agent leg joined ambit_fast */
  /* cgroup/getsockopt */
  AMBIT_ORIGDST_ANSWERED, /* SO_ORIGINAL_DST answered from ambit_peer_dst */
  AMBIT_ORIGDST_LOCAL,    /* answered with the socket's own address (steered inbound) */
  /* cgroup/getpeername4 and getpeername6 */
  AMBIT_PEERNAME_RESTORED, /* the app's getpeername() answered with its original peer */
  /* sk_msg (the same-node fast path) */
  AMBIT_MSG_REDIRECTED, /* a send went straight to the peer socket's receive queue */
  AMBIT_MSG_PASSED,     /* the peer socket is not in ambit_fast: the normal stack */
  /* sk_lookup */
  AMBIT_LOOKUP_STEERED, /* inbound plaintext handed to the agent's inbound listener */
  AMBIT_LOOKUP_NOT_TCP,
  AMBIT_LOOKUP_NOT_POD_ADDRESS, /* to an address that is no enrolled pod's */
  AMBIT_LOOKUP_LOOPBACK,        /* from the pod itself, or on lo (the agent delivering) */
  AMBIT_LOOKUP_AGENT_PORT,      /* to the agent's own ports (HBONE, inbound, outbound) */
  AMBIT_LOOKUP_AGENT_DELIVERY,  /* the agent delivering a connection it accepted to the app */
  AMBIT_LOOKUP_NO_LISTENER,     /* dropped: the agent is not listening (fails closed) */
  AMBIT_LOOKUP_ASSIGN_FAILED,   /* dropped: the kernel refused the listener */
  AMBIT_CAPTURE_REASON_COUNT
};

struct ambit_ip {
  __u8 addr[16];
};

/* ambit_netns value, by netns cookie: an enrolled pod's network namespace. */
struct ambit_netns_config {
  __u32 mark;          /* SO_MARK of the agent's sockets: never captured */
  __u32 route_mark;    /* SO_MARK of the agent's inbound deliveries: never captured */
  __u16 outbound_port; /* host byte order */
  __u16 inbound_port;  /* host byte order */
  __u16 hbone_port;    /* host byte order */
  __u16 flags;         /* AMBIT_NETNS_HAS_IP4, AMBIT_NETNS_HAS_IP6, AMBIT_NETNS_FAST_PATH */
  struct ambit_ip ip4; /* the pod's addresses, for AMBIT_CONNECT_SELF */
  struct ambit_ip ip6;
};
#define AMBIT_NETNS_HAS_IP4 1
#define AMBIT_NETNS_HAS_IP6 2
#define AMBIT_NETNS_FAST_PATH 4 /* splice the app-agent legs in the kernel (sk_msg) */

/* ambit_pods value, by pod address: the netns whose ambit_netns entry applies. */
struct ambit_pod {
  __u64 netns_cookie;
};

/* ambit_sock_dst value (by the app's socket cookie, from connect until close: getpeername
 * answers from it) and ambit_peer_dst value (by ambit_peer_key, from established until close). */
struct ambit_orig_dst {
  struct ambit_ip ip;
  __u16 port;   /* network byte order */
  __u16 family; /* AF_INET or AF_INET6 of the app's socket */
  __u32 reserved;
};

/* ambit_peer_key: the app's end of a captured connection, as the agent's accepted socket sees it
 * (its peer), in the netns both live in. */
struct ambit_peer_key {
  __u64 netns_cookie;
  struct ambit_ip ip;
  __u16 port; /* network byte order */
  __u16 reserved16;
  __u32 reserved32;
};

/* ambit_fast key (also): a socket of an app-agent leg by its own addresses, local as src. */
/* ambit_delivery key: a connection the agent opens to a pod's app (its socket carries route_mark),
 * filed when it starts so that sk_lookup lets it through to the app. */
struct ambit_flow_key {
  struct ambit_ip src;
  struct ambit_ip dst;
  __u16 src_port; /* network byte order */
  __u16 dst_port; /* network byte order */
  __u32 reserved;
};

#endif
