// SPDX-License-Identifier: GPL-2.0
/* Ambit's eBPF capture: redirects the TCP connections of enrolled pods to the node agent's
 * listeners in each pod's network namespace, without netfilter. docs/ebpf.md walks through the
 * life of a captured connection; bpf/include/ambit/capture_abi.h has the maps' layouts and
 * capture_decide.h the decisions. */
#include "vmlinux.h"

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "ambit/capture_abi.h"
#include "ambit/capture_decide.h"

#define SOL_IP 0
#define SOL_IPV6 41
#define SK_DROP 0
#define SK_PASS 1

char LICENSE[] SEC("license") = "GPL";

/* Sizes are defaults: the loader sets them from the agent's options before loading. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, __u64); /* netns cookie */
  __type(value, struct ambit_netns_config);
} ambit_netns SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 2048);
  __type(key, struct ambit_ip);
  __type(value, struct ambit_pod);
} ambit_pods SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_SOCKHASH);
  __uint(max_entries, 2048);
  __type(key, struct ambit_ip); /* the pod address whose inbound it accepts */
  __type(value, __u64);
} ambit_listen SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, __u64); /* socket cookie */
  __type(value, struct ambit_orig_dst);
} ambit_sock_dst SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, struct ambit_peer_key);
  __type(value, struct ambit_orig_dst);
} ambit_peer_dst SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, struct ambit_flow_key);
  __type(value, __u8);
} ambit_delivery SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_SOCKHASH);
  __uint(max_entries, 65536);
  __type(key, struct ambit_flow_key); /* the socket's own addresses, local as src */
  __type(value, __u64);
} ambit_fast SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, AMBIT_CAPTURE_REASON_COUNT);
  __type(key, __u32);
  __type(value, __u64);
} ambit_counters SEC(".maps");

static __always_inline void count(enum ambit_capture_reason reason) {
  __u32 key = reason;
  __u64* value = bpf_map_lookup_elem(&ambit_counters, &key);
  if (value) *value += 1;
}

static __always_inline void ip_from_v4(struct ambit_ip* ip, __u32 addr_be) {
  __builtin_memset(ip, 0, sizeof(*ip));
  ip->addr[10] = 0xff;
  ip->addr[11] = 0xff;
  __builtin_memcpy(&ip->addr[12], &addr_be, 4);
}

static __always_inline void ip_from_v6(struct ambit_ip* ip, const __u32 words[4]) {
  __builtin_memcpy(&ip->addr[0], &words[0], 4);
  __builtin_memcpy(&ip->addr[4], &words[1], 4);
  __builtin_memcpy(&ip->addr[8], &words[2], 4);
  __builtin_memcpy(&ip->addr[12], &words[3], 4);
}

/* Records where the app meant to go under the socket's cookie; false when the table is full. */
static __always_inline int remember(struct bpf_sock_addr* ctx, const struct ambit_ip* dst) {
  struct ambit_orig_dst orig = {};
  orig.ip = *dst;
  orig.port = (__u16)ctx->user_port;
  orig.family = (__u16)ctx->family;
  __u64 cookie = bpf_get_socket_cookie(ctx);
  return bpf_map_update_elem(&ambit_sock_dst, &cookie, &orig, BPF_ANY) == 0;
}

static __always_inline const struct ambit_netns_config* enrolled(void* ctx) {
  __u64 cookie = bpf_get_netns_cookie(ctx);
  return bpf_map_lookup_elem(&ambit_netns, &cookie);
}

static __always_inline enum ambit_capture_reason decide(struct bpf_sock_addr* ctx,
                                                        const struct ambit_netns_config* netns,
                                                        const struct ambit_ip* dst) {
  struct ambit_connect_facts facts = {};
  facts.sock_type = ctx->type;
  struct bpf_sock* sk = ctx->sk;
  facts.mark = sk ? sk->mark : 0;
  facts.dst_port = bpf_ntohs((__u16)ctx->user_port);
  facts.dst = *dst;
  return ambit_decide_connect(&facts, netns);
}

SEC("cgroup/connect4")
int ambit_connect4(struct bpf_sock_addr* ctx) {
  const struct ambit_netns_config* netns = enrolled(ctx);
  struct ambit_ip dst;
  ip_from_v4(&dst, ctx->user_ip4);
  enum ambit_capture_reason reason = decide(ctx, netns, &dst);
  if (reason != AMBIT_CONNECT_REDIRECTED || !netns) {
    count(reason);
    return 1;
  }
  if (!remember(ctx, &dst)) {
    count(AMBIT_CONNECT_TABLE_FULL);
    return 0; /* EPERM: better refused than sent around the mesh */
  }
  /* From the pod's address, as without capture: the app's getsockname() stays true. A socket
   * the app bound itself keeps its address (bpf_bind fails and changes nothing). */
  if (netns->flags & AMBIT_NETNS_HAS_IP4) {
    struct sockaddr_in source = {};
    source.sin_family = AMBIT_AF_INET;
    __builtin_memcpy(&source.sin_addr.s_addr, &netns->ip4.addr[12], 4);
    bpf_bind(ctx, (struct sockaddr*)&source, sizeof(source));
  }
  ctx->user_ip4 = bpf_htonl(0x7f000001);
  ctx->user_port = bpf_htons(netns->outbound_port);
  count(AMBIT_CONNECT_REDIRECTED);
  return 1;
}

SEC("cgroup/connect6")
int ambit_connect6(struct bpf_sock_addr* ctx) {
  const struct ambit_netns_config* netns = enrolled(ctx);
  struct ambit_ip dst;
  __u32 words[4] = {ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3]};
  ip_from_v6(&dst, words);
  enum ambit_capture_reason reason = decide(ctx, netns, &dst);
  if (reason != AMBIT_CONNECT_REDIRECTED || !netns) {
    count(reason);
    return 1;
  }
  if (!remember(ctx, &dst)) {
    count(AMBIT_CONNECT_TABLE_FULL);
    return 0;
  }
  /* ::1, or ::ffff:127.0.0.1 for a dual-stack socket sent to an IPv4 address. */
  const int v4 = ambit_ip_is_v4(&dst);
  const __u32 word2 = v4 ? bpf_htonl(0x0000ffff) : 0;
  const __u32 word3 = v4 ? bpf_htonl(0x7f000001) : bpf_htonl(1);
  const __u16 own = v4 ? AMBIT_NETNS_HAS_IP4 : AMBIT_NETNS_HAS_IP6;
  if (netns->flags & own) { /* from the pod's address of that family, as in connect4 */
    struct sockaddr_in6 source = {};
    source.sin6_family = AMBIT_AF_INET6;
    __builtin_memcpy(&source.sin6_addr, v4 ? netns->ip4.addr : netns->ip6.addr, 16);
    bpf_bind(ctx, (struct sockaddr*)&source, sizeof(source));
  }
  ctx->user_ip6[0] = 0;
  ctx->user_ip6[1] = 0;
  ctx->user_ip6[2] = word2;
  ctx->user_ip6[3] = word3;
  ctx->user_port = bpf_htons(netns->outbound_port);
  count(AMBIT_CONNECT_REDIRECTED);
  return 1;
}

/* Separate functions, so the compiler cannot fold the two families' context reads into one load
 * through a computed pointer, which the verifier rejects. */
static __noinline void sockops_flow_v4(struct bpf_sock_ops* skops, struct ambit_flow_key* key) {
  ip_from_v4(&key->src, skops->local_ip4);
  ip_from_v4(&key->dst, skops->remote_ip4);
}

static __noinline void sockops_flow_v6(struct bpf_sock_ops* skops, struct ambit_flow_key* key) {
  __u32 own[4] = {skops->local_ip6[0], skops->local_ip6[1], skops->local_ip6[2],
                  skops->local_ip6[3]};
  __u32 peer[4] = {skops->remote_ip6[0], skops->remote_ip6[1], skops->remote_ip6[2],
                   skops->remote_ip6[3]};
  ip_from_v6(&key->src, own);
  ip_from_v6(&key->dst, peer);
}

static __always_inline void sockops_flow(struct bpf_sock_ops* skops, struct ambit_flow_key* key) {
  if (skops->family == AMBIT_AF_INET) {
    sockops_flow_v4(skops, key);
  } else {
    sockops_flow_v6(skops, key);
  }
  key->src_port = bpf_htons((__u16)skops->local_port);
  /* remote_port holds the port in network byte order in its upper 16 bits. */
  key->dst_port = (__u16)(skops->remote_port >> 16);
}

/* The agent's delivery of an inbound connection to the app: filed before its SYN leaves, so that
 * sk_lookup in the pod's netns lets it reach the app instead of steering it back to the agent. */
static __always_inline void file_delivery(struct bpf_sock_ops* skops) {
  struct bpf_sock* sk = skops->sk;
  if (!sk) return;
  __u64 cookie = bpf_get_netns_cookie(skops);
  const struct ambit_netns_config* netns = bpf_map_lookup_elem(&ambit_netns, &cookie);
  if (!netns || sk->mark == 0 || sk->mark != netns->route_mark) return;
  struct ambit_flow_key key = {};
  sockops_flow(skops, &key);
  __u8 one = 1;
  if (bpf_map_update_elem(&ambit_delivery, &key, &one, BPF_ANY) == 0) {
    count(AMBIT_SOCKOPS_DELIVERY);
    bpf_sock_ops_cb_flags_set(skops, BPF_SOCK_OPS_STATE_CB_FLAG);
  }
}

/* The same-node fast path: both ends of an app-agent leg join ambit_fast, and ambit_fast_msg
 * hands what one sends straight to the other's receive queue. The legs: an app's captured
 * connection and the agent's accepted end of it (port outbound_port), and the agent's delivery
 * of an inbound connection and the app's accepted end of it. */
static __always_inline void join_fast_path(struct bpf_sock_ops* skops, int delivery) {
  __u64 cookie = bpf_get_netns_cookie(skops);
  const struct ambit_netns_config* netns = bpf_map_lookup_elem(&ambit_netns, &cookie);
  if (!netns || !(netns->flags & AMBIT_NETNS_FAST_PATH)) return;
  struct ambit_flow_key key = {};
  sockops_flow(skops, &key);
  if (!delivery && skops->op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB &&
      skops->local_port != netns->outbound_port) {
    /* The app's end of a delivery: its peer was filed in ambit_delivery. */
    struct ambit_flow_key filed = {};
    filed.src = key.dst;
    filed.dst = key.src;
    filed.src_port = key.dst_port;
    filed.dst_port = key.src_port;
    if (!bpf_map_lookup_elem(&ambit_delivery, &filed)) return;
  }
  if (bpf_sock_hash_update(skops, &ambit_fast, &key, BPF_ANY) == 0) count(AMBIT_SOCKOPS_FAST_PATH);
}

static __always_inline void local_key(struct bpf_sock_ops* skops, struct ambit_peer_key* key) {
  key->netns_cookie = bpf_get_netns_cookie(skops);
  if (skops->family == AMBIT_AF_INET) {
    ip_from_v4(&key->ip, skops->local_ip4);
  } else {
    __u32 words[4] = {skops->local_ip6[0], skops->local_ip6[1], skops->local_ip6[2],
                      skops->local_ip6[3]};
    ip_from_v6(&key->ip, words);
  }
  key->port = bpf_htons((__u16)skops->local_port);
}

/* Once the app's connection to the agent is established, its original destination is filed under
 * the app's address and port, which is what the agent's accepted socket sees as its peer. */
SEC("sockops")
int ambit_sockops(struct bpf_sock_ops* skops) {
  if (skops->op == BPF_SOCK_OPS_TCP_CONNECT_CB) {
    file_delivery(skops);
    return 1;
  }
  if (skops->op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB) {
    join_fast_path(skops, 0);
    return 1;
  }
  if (skops->op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB) {
    __u64 cookie = bpf_get_socket_cookie(skops);
    struct ambit_orig_dst* orig = bpf_map_lookup_elem(&ambit_sock_dst, &cookie);
    if (!orig) {
      struct bpf_sock* sk = skops->sk;
      if (sk && sk->mark != 0) { /* the agent's delivery socket, filed at connect */
        struct ambit_flow_key flow = {};
        sockops_flow(skops, &flow);
        if (bpf_map_lookup_elem(&ambit_delivery, &flow)) join_fast_path(skops, 1);
      }
      return 1;
    }
    join_fast_path(skops, 0);
    struct ambit_peer_key key = {};
    local_key(skops, &key);
    struct ambit_orig_dst copy = *orig;
    if (bpf_map_update_elem(&ambit_peer_dst, &key, &copy, BPF_ANY) != 0) {
      count(AMBIT_SOCKOPS_TABLE_FULL);
      return 1;
    }
    count(AMBIT_SOCKOPS_REKEYED);
    bpf_sock_ops_cb_flags_set(skops, BPF_SOCK_OPS_STATE_CB_FLAG);
    return 1;
  }
  if (skops->op == BPF_SOCK_OPS_STATE_CB && skops->args[1] == BPF_TCP_CLOSE) {
    struct ambit_peer_key key = {};
    local_key(skops, &key);
    bpf_map_delete_elem(&ambit_peer_dst, &key);
    struct ambit_flow_key flow = {};
    sockops_flow(skops, &flow);
    bpf_map_delete_elem(&ambit_delivery, &flow);
    __u64 cookie = bpf_get_socket_cookie(skops);
    bpf_map_delete_elem(&ambit_sock_dst, &cookie);
  }
  return 1;
}

/* getpeername() of a captured app socket answers where the app connected, not the agent's
 * listener. */
SEC("cgroup/getpeername4")
int ambit_peername4(struct bpf_sock_addr* ctx) {
  __u64 cookie = bpf_get_socket_cookie(ctx);
  struct ambit_orig_dst* orig = bpf_map_lookup_elem(&ambit_sock_dst, &cookie);
  if (!orig || !ambit_ip_is_v4(&orig->ip)) return 1;
  __u32 addr;
  __builtin_memcpy(&addr, &orig->ip.addr[12], 4);
  ctx->user_ip4 = addr;
  ctx->user_port = orig->port;
  count(AMBIT_PEERNAME_RESTORED);
  return 1;
}

SEC("cgroup/getpeername6")
int ambit_peername6(struct bpf_sock_addr* ctx) {
  __u64 cookie = bpf_get_socket_cookie(ctx);
  struct ambit_orig_dst* orig = bpf_map_lookup_elem(&ambit_sock_dst, &cookie);
  if (!orig) return 1;
  __u32 w0, w1, w2, w3;
  __builtin_memcpy(&w0, &orig->ip.addr[0], 4);
  __builtin_memcpy(&w1, &orig->ip.addr[4], 4);
  __builtin_memcpy(&w2, &orig->ip.addr[8], 4);
  __builtin_memcpy(&w3, &orig->ip.addr[12], 4);
  ctx->user_ip6[0] = w0;
  ctx->user_ip6[1] = w1;
  ctx->user_ip6[2] = w2;
  ctx->user_ip6[3] = w3;
  ctx->user_port = orig->port;
  count(AMBIT_PEERNAME_RESTORED);
  return 1;
}

static __noinline void msg_flow_v4(struct sk_msg_md* msg, struct ambit_flow_key* peer) {
  ip_from_v4(&peer->src, msg->remote_ip4);
  ip_from_v4(&peer->dst, msg->local_ip4);
}

static __noinline void msg_flow_v6(struct sk_msg_md* msg, struct ambit_flow_key* peer) {
  __u32 remote[4] = {msg->remote_ip6[0], msg->remote_ip6[1], msg->remote_ip6[2],
                     msg->remote_ip6[3]};
  __u32 local[4] = {msg->local_ip6[0], msg->local_ip6[1], msg->local_ip6[2], msg->local_ip6[3]};
  ip_from_v6(&peer->src, remote);
  ip_from_v6(&peer->dst, local);
}

/* A send on a socket of ambit_fast goes to its peer's receive queue when the peer is there too. */
SEC("sk_msg")
int ambit_fast_msg(struct sk_msg_md* msg) {
  struct ambit_flow_key peer = {};
  if (msg->family == AMBIT_AF_INET) {
    msg_flow_v4(msg, &peer);
  } else {
    msg_flow_v6(msg, &peer);
  }
  /* remote_port holds the port in network byte order in its upper 16 bits. */
  peer.src_port = (__u16)(msg->remote_port >> 16);
  peer.dst_port = bpf_htons((__u16)msg->local_port);
  if (bpf_msg_redirect_hash(msg, &ambit_fast, &peer, BPF_F_INGRESS) == SK_PASS) {
    count(AMBIT_MSG_REDIRECTED);
    return SK_PASS;
  }
  count(AMBIT_MSG_PASSED);
  return SK_PASS;
}

/* SO_ORIGINAL_DST for the agent's accepted sockets in enrolled netns, as conntrack answers it in
 * nftables mode, so the agent reads original destinations the same way in both modes. */
SEC("cgroup/getsockopt")
int ambit_sockopt(struct bpf_sockopt* ctx) {
  if (ctx->optname != AMBIT_SO_ORIGINAL_DST) return 1;
  if (ctx->level != SOL_IP && ctx->level != SOL_IPV6) return 1;
  struct bpf_sock* sk = ctx->sk;
  if (!sk) return 1;
  __u64 netns = bpf_get_netns_cookie(ctx);
  if (!bpf_map_lookup_elem(&ambit_netns, &netns)) return 1;

  struct ambit_peer_key key = {};
  key.netns_cookie = netns;
  struct ambit_ip local;
  if (sk->family == AMBIT_AF_INET) {
    ip_from_v4(&key.ip, sk->dst_ip4);
    ip_from_v4(&local, sk->src_ip4);
  } else {
    __u32 peer[4] = {sk->dst_ip6[0], sk->dst_ip6[1], sk->dst_ip6[2], sk->dst_ip6[3]};
    __u32 own[4] = {sk->src_ip6[0], sk->src_ip6[1], sk->src_ip6[2], sk->src_ip6[3]};
    ip_from_v6(&key.ip, peer);
    ip_from_v6(&local, own);
  }
  key.port = (__u16)sk->dst_port;

  struct ambit_orig_dst answer = {};
  struct ambit_orig_dst* orig = bpf_map_lookup_elem(&ambit_peer_dst, &key);
  if (orig) {
    answer = *orig;
  } else { /* steered by sk_lookup: the socket's own address is where the client connected */
    answer.ip = local;
    answer.port = bpf_htons((__u16)sk->src_port);
  }

  if (ctx->level == SOL_IP) {
    if (!ambit_ip_is_v4(&answer.ip)) return 1;
    struct sockaddr_in* out = ctx->optval;
    if ((void*)(out + 1) > ctx->optval_end) return 1;
    out->sin_family = AMBIT_AF_INET;
    out->sin_port = answer.port;
    __builtin_memcpy(&out->sin_addr.s_addr, &answer.ip.addr[12], 4);
    ctx->optlen = sizeof(*out);
  } else {
    struct sockaddr_in6* out = ctx->optval;
    if ((void*)(out + 1) > ctx->optval_end) return 1;
    __builtin_memset(out, 0, sizeof(*out));
    out->sin6_family = AMBIT_AF_INET6;
    out->sin6_port = answer.port;
    __builtin_memcpy(&out->sin6_addr, answer.ip.addr, 16);
    ctx->optlen = sizeof(*out);
  }
  ctx->retval = 0;
  count(orig ? AMBIT_ORIGDST_ANSWERED : AMBIT_ORIGDST_LOCAL);
  return 1;
}

/* Separate functions, so the compiler cannot fold the two families' context reads into one load
 * through a computed pointer, which the verifier rejects. */
static __noinline void lookup_addresses_v4(struct bpf_sk_lookup* ctx, struct ambit_ip* local,
                                           struct ambit_ip* remote) {
  ip_from_v4(local, ctx->local_ip4);
  ip_from_v4(remote, ctx->remote_ip4);
}

static __noinline void lookup_addresses_v6(struct bpf_sk_lookup* ctx, struct ambit_ip* local,
                                           struct ambit_ip* remote) {
  __u32 own[4] = {ctx->local_ip6[0], ctx->local_ip6[1], ctx->local_ip6[2], ctx->local_ip6[3]};
  __u32 peer[4] = {ctx->remote_ip6[0], ctx->remote_ip6[1], ctx->remote_ip6[2], ctx->remote_ip6[3]};
  ip_from_v6(local, own);
  ip_from_v6(remote, peer);
}

/* Attached to each enrolled pod's netns: new inbound TCP connections to the pod's address arrive
 * at the agent's inbound listener instead of the app's, keeping their destination address. */
SEC("sk_lookup")
int ambit_sk_lookup(struct bpf_sk_lookup* ctx) {
  struct ambit_ip ip;
  struct ambit_ip remote;
  if (ctx->family == AMBIT_AF_INET) {
    lookup_addresses_v4(ctx, &ip, &remote);
  } else {
    lookup_addresses_v6(ctx, &ip, &remote);
  }
  const struct ambit_netns_config* netns = 0;
  struct ambit_pod* pod = bpf_map_lookup_elem(&ambit_pods, &ip);
  if (pod) netns = bpf_map_lookup_elem(&ambit_netns, &pod->netns_cookie);

  struct ambit_lookup_facts facts = {};
  facts.protocol = ctx->protocol;
  facts.ingress_ifindex = ctx->ingress_ifindex;
  facts.local_port = (__u16)ctx->local_port;
  facts.from_itself = ambit_ip_equal(&ip, &remote);
  struct ambit_flow_key flow = {};
  flow.src = remote;
  flow.dst = ip;
  flow.src_port = (__u16)ctx->remote_port;
  flow.dst_port = bpf_htons((__u16)ctx->local_port);
  facts.agent_delivery = bpf_map_lookup_elem(&ambit_delivery, &flow) != 0;
  enum ambit_capture_reason reason = ambit_decide_lookup(&facts, netns);
  if (reason != AMBIT_LOOKUP_STEERED) {
    count(reason);
    return SK_PASS;
  }
  struct bpf_sock* listener = bpf_map_lookup_elem(&ambit_listen, &ip);
  if (!listener) {
    count(AMBIT_LOOKUP_NO_LISTENER);
    return SK_DROP;
  }
  long err = bpf_sk_assign(ctx, listener, 0);
  bpf_sk_release(listener);
  if (err) {
    count(AMBIT_LOOKUP_ASSIGN_FAILED);
    return SK_DROP;
  }
  count(AMBIT_LOOKUP_STEERED);
  return SK_PASS;
}
