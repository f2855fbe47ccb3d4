#include "agent/capture/bpf_capture.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/statfs.h>

#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>

#include <absl/strings/str_cat.h>

#include "agent/capture/bpf_map.h"
#include "agent/capture/bpf_reasons.h"
#include "bpf/capture.skel.h"
#include "core/errno_text.h"
#include "core/json/json_writer.h"
#include "core/log.h"

namespace ambit::agent {
namespace {

namespace fs = std::filesystem;

constexpr char kBpffsRoot[] = "/sys/fs/bpf";

std::shared_ptr<spdlog::logger> logger() { return log::get("capture"); }

// libbpf's messages go to our log: warnings as warnings (a verifier rejection among them), the
// rest at debug.
int libbpfPrint(enum libbpf_print_level level, const char* format, va_list args) {
  char line[1024];
  const int n = std::vsnprintf(line, sizeof line, format, args);
  std::string text(line, n > 0 ? std::min<size_t>(static_cast<size_t>(n), sizeof line - 1) : 0);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  if (level == LIBBPF_WARN) {
    logger()->warn("libbpf: {}", text);
  } else {
    logger()->debug("libbpf: {}", text);
  }
  return 0;
}

void routeLibbpfLog() {
  static std::once_flag once;
  std::call_once(once, [] { libbpf_set_print(libbpfPrint); });
}

absl::Status errnoStatus(const std::string& what, int err) {
  const std::string message = absl::StrCat("eBPF capture: ", what, ": ", errnoText(err));
  if (err == E2BIG || err == ENOSPC || err == ENOMEM) return absl::ResourceExhaustedError(message);
  if (err == EPERM || err == EACCES || err == EINVAL || err == EOPNOTSUPP || err == ENOTSUP ||
      err == ENOENT) {
    return absl::FailedPreconditionError(message);
  }
  return absl::InternalError(message);
}

// The attachments to the cgroup: one link each, pinned as links/<name>.
struct CgroupHook {
  const char* name;
  bpf_attach_type type;
  bpf_program* (*program)(const ambit_capture&);
};
const CgroupHook kCgroupHooks[] = {
    {"connect4", BPF_CGROUP_INET4_CONNECT,
     [](const ambit_capture& s) { return s.progs.ambit_connect4; }},
    {"connect6", BPF_CGROUP_INET6_CONNECT,
     [](const ambit_capture& s) { return s.progs.ambit_connect6; }},
    {"getpeername4", BPF_CGROUP_INET4_GETPEERNAME,
     [](const ambit_capture& s) { return s.progs.ambit_peername4; }},
    {"getpeername6", BPF_CGROUP_INET6_GETPEERNAME,
     [](const ambit_capture& s) { return s.progs.ambit_peername6; }},
    {"sockops", BPF_CGROUP_SOCK_OPS, [](const ambit_capture& s) { return s.progs.ambit_sockops; }},
    {"getsockopt", BPF_CGROUP_GETSOCKOPT,
     [](const ambit_capture& s) { return s.progs.ambit_sockopt; }},
};

absl::Status ensureBpffs(const std::string& pin_dir) {
  struct statfs fs_info {};
  if (::statfs(kBpffsRoot, &fs_info) != 0 || fs_info.f_type != BPF_FS_MAGIC) {
    if (::mount("bpf", kBpffsRoot, "bpf", 0, nullptr) != 0) {
      return errnoStatus(absl::StrCat("mount bpffs at ", kBpffsRoot), errno);
    }
    logger()->info("mounted bpffs at {}", kBpffsRoot);
  }
  std::error_code ec;
  for (const char* sub : {"maps", "links", "netns"}) {
    fs::create_directories(fs::path(pin_dir) / sub, ec);
    if (ec) {
      return absl::FailedPreconditionError(
          absl::StrCat("eBPF capture: create ", pin_dir, "/", sub, ": ", ec.message()));
    }
  }
  if (::statfs(pin_dir.c_str(), &fs_info) != 0 || fs_info.f_type != BPF_FS_MAGIC) {
    return absl::FailedPreconditionError(
        absl::StrCat("eBPF capture: pin directory ", pin_dir, " is not on bpffs"));
  }
  return absl::OkStatus();
}

// A lock per cgroup, held while the agent runs: a second agent on the same cgroup is refused.
absl::StatusOr<UniqueFd> lockCgroup(const BpfCaptureOptions& options) {
  std::error_code ec;
  fs::create_directories(options.lock_dir, ec);
  std::string name = fs::weakly_canonical(options.cgroup, ec).string();
  for (char& c : name) {
    if (c == '/') c = '_';
  }
  const std::string path = absl::StrCat(options.lock_dir, "/capture", name, ".lock");
  UniqueFd fd(::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600));
  if (!fd) return errnoStatus(absl::StrCat("open ", path), errno);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return absl::AlreadyExistsError(
          absl::StrCat("eBPF capture: another ambit-agent already captures cgroup ", options.cgroup,
                       " (it holds ", path, ")"));
    }
    return errnoStatus(absl::StrCat("lock ", path), errno);
  }
  return fd;
}

std::string programName(uint32_t id) {
  UniqueFd fd(bpf_prog_get_fd_by_id(id));
  if (!fd) return "";
  bpf_prog_info info{};
  uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0) return "";
  return info.name;
}

uint32_t linkProgramId(int link_fd) {
  bpf_link_info info{};
  uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(link_fd, &info, &len) != 0) return 0;
  return info.prog_id;
}

// The kernel id of a BPF object (Info: bpf_prog_info or bpf_map_info), 0 when unknown.
template <typename Info>
uint32_t objectId(int fd) {
  Info info{};
  uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) return 0;
  return info.id;
}

// ALREADY_EXISTS when the cgroup has an Ambit program of `hook` that is not `ours` (0: none).
absl::Status checkNotForeign(int cgroup_fd, const CgroupHook& hook, uint32_t ours,
                             const std::string& cgroup) {
  uint32_t ids[64];
  uint32_t count = 64;
  uint32_t flags = 0;
  if (bpf_prog_query(cgroup_fd, hook.type, 0, &flags, ids, &count) != 0) {
    return errnoStatus(absl::StrCat("query the ", hook.name, " programs of ", cgroup), errno);
  }
  for (uint32_t i = 0; i < count; ++i) {
    if (ids[i] == ours) continue;
    const std::string name = programName(ids[i]);
    if (name.rfind("ambit_", 0) == 0) {
      return absl::AlreadyExistsError(absl::StrCat(
          "eBPF capture: cgroup ", cgroup, " already has Ambit's ", hook.name, " program (id ",
          ids[i], ") attached by another agent or pin directory; refusing to attach twice"));
    }
  }
  return absl::OkStatus();
}

std::string ipText(const ambit_ip& ip) {
  static constexpr uint8_t kV4Prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  char text[64];
  if (std::memcmp(ip.addr, kV4Prefix, sizeof kV4Prefix) == 0)
    return ::inet_ntop(AF_INET, &ip.addr[12], text, sizeof text) ? text : "?";
  return ::inet_ntop(AF_INET6, ip.addr, text, sizeof text) ? text : "?";
}

// The maps the agent writes, typed by their ABI structs.
BpfMap<uint64_t, ambit_netns_config> netnsMap(const ambit_capture& s) {
  return BpfMap<uint64_t, ambit_netns_config>(s.maps.ambit_netns);
}
BpfMap<ambit_ip, ambit_pod> podsMap(const ambit_capture& s) {
  return BpfMap<ambit_ip, ambit_pod>(s.maps.ambit_pods);
}
BpfMap<ambit_ip, uint64_t> listenMap(const ambit_capture& s) {  // value: a listener's fd
  return BpfMap<ambit_ip, uint64_t>(s.maps.ambit_listen);
}

std::string netnsPin(const BpfCaptureOptions& options, uint64_t cookie) {
  return absl::StrCat(options.pin_dir, "/netns/", cookie);
}

// The link pinned at `path`, or nullptr (errno set) when there is none.
bpf_link* openPinned(const std::string& path) {
  if (::access(path.c_str(), F_OK) != 0) return nullptr;  // no libbpf warning for a missing pin
  return bpf_link__open(path.c_str());
}

// Detaches the link pinned at `path` (whoever else holds it) and removes the pin.
absl::Status detachPinned(const std::string& path) {
  bpf_link* link = openPinned(path);
  if (link == nullptr) {
    if (errno == ENOENT) return absl::OkStatus();
    return errnoStatus(absl::StrCat("open link ", path), errno);
  }
  const int detached = bpf_link__detach(link);
  const int err = errno;
  bpf_link__unpin(link);
  bpf_link__destroy(link);
  // A link whose netns or cgroup is gone is already detached.
  if (detached != 0 && err != ENOLINK && err != ENOENT) {
    return errnoStatus(absl::StrCat("detach link ", path), err);
  }
  return absl::OkStatus();
}

}  // namespace

ambit_ip abiAddress(const std::string& bytes) {
  ambit_ip ip{};
  if (bytes.size() == 4) {
    ip.addr[10] = 0xff;
    ip.addr[11] = 0xff;
    std::memcpy(&ip.addr[12], bytes.data(), 4);
  } else if (bytes.size() == 16) {
    std::memcpy(ip.addr, bytes.data(), 16);
  }
  return ip;
}

std::string cgroup2Root() {
  std::ifstream mounts("/proc/self/mounts");
  std::string device, mount_point, type, rest;
  std::string found;
  while (mounts >> device >> mount_point >> type && std::getline(mounts, rest)) {
    if (type != "cgroup2") continue;
    if (mount_point == "/sys/fs/cgroup") return mount_point;
    if (found.empty()) found = mount_point;
  }
  return found;
}

absl::StatusOr<BpfCaptureOptions> BpfCapture::resolve(BpfCaptureOptions options) {
  if (options.cgroup.empty()) options.cgroup = cgroup2Root();
  if (options.cgroup.empty()) {
    return absl::FailedPreconditionError("eBPF capture: no cgroup v2 hierarchy is mounted");
  }
  return options;
}

absl::StatusOr<uint64_t> netnsCookie(const Netns& netns) {
  AMBIT_ASSIGN_OR_RETURN(UniqueFd fd, socketIn(netns, AF_INET, SOCK_DGRAM, 0));
  uint64_t cookie = 0;
  socklen_t len = sizeof cookie;
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) != 0) {
    return errnoStatus("SO_NETNS_COOKIE", errno);
  }
  return cookie;
}

absl::StatusOr<std::unique_ptr<BpfCapture>> BpfCapture::open(const BpfCaptureOptions& given) {
  routeLibbpfLog();
  AMBIT_ASSIGN_OR_RETURN(const BpfCaptureOptions options, resolve(given));
  if (!fs::exists("/sys/kernel/btf/vmlinux")) {
    return absl::FailedPreconditionError(
        "eBPF capture: the kernel has no BTF (/sys/kernel/btf/vmlinux is missing)");
  }
  if (options.max_pods == 0) return absl::InvalidArgumentError("eBPF capture: max_pods is 0");
  std::unique_ptr<BpfCapture> capture(new BpfCapture(options));
  AMBIT_ASSIGN_OR_RETURN(capture->lock_, lockCgroup(options));
  capture->cgroup_.reset(::open(options.cgroup.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!capture->cgroup_) return errnoStatus(absl::StrCat("open cgroup ", options.cgroup), errno);
  struct statfs fs_info {};
  if (::fstatfs(capture->cgroup_.get(), &fs_info) != 0 || fs_info.f_type != CGROUP2_SUPER_MAGIC) {
    return absl::FailedPreconditionError(
        absl::StrCat("eBPF capture: ", options.cgroup, " is not a cgroup v2 directory"));
  }
  std::error_code ec;
  const bool fresh = !fs::exists(options.pin_dir, ec);
  AMBIT_RETURN_IF_ERROR(ensureBpffs(options.pin_dir));
  absl::Status status = capture->load();
  if (status.ok()) status = capture->attachCgroupLinks();
  if (!status.ok()) {
    // Nothing is attached (attachCgroupLinks rolls back); maps pinned by this attempt go too.
    capture.reset();
    if (fresh) fs::remove_all(options.pin_dir, ec);
    return status;
  }
  capture->sweepDefunctNetns();
  return capture;
}

BpfCapture::~BpfCapture() {
  if (skeleton_ != nullptr) ambit_capture__destroy(skeleton_);
}

absl::Status BpfCapture::load() {
  absl::Status loaded = openAndLoad();
  if (loaded.ok()) return loaded;
  const std::string maps = absl::StrCat(options_.pin_dir, "/maps");
  std::error_code ec;
  if (fs::is_empty(maps, ec) || ec) return loaded;
  // Pinned maps of another layout (an upgrade, or a new --ebpf-max-pods): start them afresh. The
  // pinned links are kept and switched to the new programs, so capture never stops; connections
  // accepted in between lose their original destinations and are refused.
  logger()->warn(
      "eBPF capture: could not reuse the maps pinned under {} ({}); replacing them, and "
      "enrolling the pods again",
      maps, std::string(loaded.message()));
  for (const auto& entry : fs::directory_iterator(maps, ec)) ::unlink(entry.path().c_str());
  return openAndLoad();
}

absl::Status BpfCapture::openAndLoad() {
  if (skeleton_ != nullptr) ambit_capture__destroy(skeleton_);
  skeleton_ = ambit_capture__open();
  if (skeleton_ == nullptr) return errnoStatus("open the BPF object", errno);
  const uint32_t addresses = options_.max_pods * 2;
  bpf_map__set_max_entries(skeleton_->maps.ambit_netns, options_.max_pods);
  bpf_map__set_max_entries(skeleton_->maps.ambit_pods, addresses);
  bpf_map__set_max_entries(skeleton_->maps.ambit_listen, addresses);
  bpf_map* map = nullptr;
  bpf_object__for_each_map(map, skeleton_->obj) {
    if (bpf_map__is_internal(map)) continue;  // .rodata and friends belong to one load
    const std::string path = absl::StrCat(options_.pin_dir, "/maps/", bpf_map__name(map));
    if (bpf_map__set_pin_path(map, path.c_str()) != 0) {
      return errnoStatus(absl::StrCat("pin path ", path), errno);
    }
  }
  if (ambit_capture__load(skeleton_) != 0) {
    const int err = errno;
    ambit_capture__destroy(skeleton_);
    skeleton_ = nullptr;
    return absl::FailedPreconditionError(absl::StrCat(
        "eBPF capture: load the programs: ", errnoText(err),
        " (the kernel lacks a hook or a helper they use, or pinned maps do not fit; the agent's "
        "log at debug level has libbpf's and the verifier's output)"));
  }
  // The fast path's verdict program belongs to its sockhash (pinned with it); it only acts on
  // sockets of pods enrolled with the fast path on. A new program replaces a previous agent's.
  if (bpf_prog_attach(bpf_program__fd(skeleton_->progs.ambit_fast_msg),
                      bpf_map__fd(skeleton_->maps.ambit_fast), BPF_SK_MSG_VERDICT, 0) != 0) {
    return errnoStatus("attach the fast path's sk_msg program to ambit_fast", errno);
  }
  return absl::OkStatus();
}

void BpfCapture::sweepDefunctNetns() {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fs::path(options_.pin_dir) / "netns", ec)) {
    UniqueFd link(bpf_obj_get(entry.path().c_str()));
    if (!link) continue;
    bpf_link_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(link.get(), &info, &len) != 0) continue;
    if (info.netns.netns_ino != 0) continue;  // its netns still exists
    uint64_t cookie = 0;
    try {
      cookie = std::stoull(entry.path().filename().string());
    } catch (const std::exception&) {
      continue;
    }
    link.reset();
    if (release(cookie).ok()) {
      logger()->info("eBPF capture: released netns {}, gone while no agent ran", cookie);
    }
  }
}

absl::Status BpfCapture::attachCgroupLinks() {
  struct Created {
    bpf_link* link;
    std::string pin;
  };
  std::vector<Created> created;
  auto rollback = [&](absl::Status status) {
    for (Created& c : created) {
      bpf_link__unpin(c.link);
      bpf_link__destroy(c.link);  // the last reference: detaches
    }
    return status;
  };
  for (const CgroupHook& hook : kCgroupHooks) {
    bpf_program* program = hook.program(*skeleton_);
    const std::string pin = absl::StrCat(options_.pin_dir, "/links/", hook.name);
    if (bpf_link* pinned = openPinned(pin); pinned != nullptr) {
      absl::Status status = checkNotForeign(cgroup_.get(), hook,
                                            linkProgramId(bpf_link__fd(pinned)), options_.cgroup);
      if (status.ok() && bpf_link__update_program(pinned, program) != 0) {
        status = errnoStatus(absl::StrCat("switch the pinned ", hook.name, " link"), errno);
      }
      bpf_link__destroy(pinned);  // the pin keeps it
      if (!status.ok()) return rollback(status);
      adopted_ = true;
      continue;
    }
    if (absl::Status status = checkNotForeign(cgroup_.get(), hook, 0, options_.cgroup);
        !status.ok()) {
      return rollback(status);
    }
    bpf_link* link = bpf_program__attach_cgroup(program, cgroup_.get());
    if (link == nullptr) {
      return rollback(
          errnoStatus(absl::StrCat("attach ", hook.name, " to cgroup ", options_.cgroup), errno));
    }
    created.push_back({link, pin});
    if (bpf_link__pin(link, pin.c_str()) != 0) {
      return rollback(errnoStatus(absl::StrCat("pin ", pin), errno));
    }
  }
  for (Created& c : created) bpf_link__destroy(c.link);  // closes our fds; the pins keep them
  logger()->info("eBPF capture {} cgroup {} (pins under {})",
                 adopted_ ? "adopted on" : "attached to", options_.cgroup, options_.pin_dir);
  return absl::OkStatus();
}

absl::Status BpfCapture::attachNetns(const BpfPod& pod) {
  const std::string pin = netnsPin(options_, pod.netns_cookie);
  if (bpf_link* pinned = openPinned(pin); pinned != nullptr) {
    const int updated = bpf_link__update_program(pinned, skeleton_->progs.ambit_sk_lookup);
    const int err = errno;
    bpf_link__destroy(pinned);
    if (updated == 0) return absl::OkStatus();
    if (err != ENOLINK) return errnoStatus(absl::StrCat("switch the pinned link ", pin), err);
    ::unlink(pin.c_str());  // its netns is gone: attach afresh
  }
  bpf_link* link = bpf_program__attach_netns(skeleton_->progs.ambit_sk_lookup, pod.netns_fd);
  if (link == nullptr) return errnoStatus("attach sk_lookup to the pod's netns", errno);
  const int pinned = bpf_link__pin(link, pin.c_str());
  const int err = errno;
  bpf_link__destroy(link);  // with the pin: our fd closes; without: detaches
  if (pinned != 0) return errnoStatus(absl::StrCat("pin ", pin), err);
  return absl::OkStatus();
}

absl::Status BpfCapture::enroll(const BpfPod& pod) {
  const auto listen = listenMap(*skeleton_);
  const auto pods = podsMap(*skeleton_);
  auto fail = [&](absl::Status s) {
    removeEntries(pod.netns_cookie, pod.config);
    return s;
  };
  // Listeners and addresses first, the netns entry (which turns on outbound capture) next, the
  // sk_lookup link (which turns on inbound capture) last.
  for (const std::string& address : pod.addresses) {
    const ambit_ip key = abiAddress(address);
    const int fd = address.size() == 4 ? pod.inbound_v4_fd : pod.inbound_v6_fd;
    if (fd < 0) {
      return fail(absl::FailedPreconditionError(
          absl::StrCat("eBPF capture: no inbound listener for ", ipText(key))));
    }
    if (int err = listen.update(key, static_cast<uint64_t>(fd)); err != 0) {
      return fail(errnoStatus(absl::StrCat("add the inbound listener of ", ipText(key)), err));
    }
    if (int err = pods.update(key, ambit_pod{pod.netns_cookie}); err != 0) {
      return fail(errnoStatus(absl::StrCat("add pod address ", ipText(key)), err));
    }
  }
  if (int err = netnsMap(*skeleton_).update(pod.netns_cookie, pod.config); err != 0) {
    if (err == E2BIG) {
      return fail(absl::ResourceExhaustedError(absl::StrCat(
          "eBPF capture: the netns table is full (", options_.max_pods,
          " pods, --ebpf-max-pods); this pod is not enrolled, the others are unaffected")));
    }
    return fail(errnoStatus("add the pod's netns", err));
  }
  if (absl::Status status = attachNetns(pod); !status.ok()) return fail(status);
  return absl::OkStatus();
}

void BpfCapture::removeEntries(uint64_t netns_cookie, const ambit_netns_config& config) {
  const auto pods = podsMap(*skeleton_);
  netnsMap(*skeleton_).erase(netns_cookie);
  for (const ambit_ip* ip : {&config.ip4, &config.ip6}) {
    const bool present = ip == &config.ip4 ? (config.flags & AMBIT_NETNS_HAS_IP4) != 0
                                           : (config.flags & AMBIT_NETNS_HAS_IP6) != 0;
    if (!present) continue;
    // Only this netns's entries: an address may have moved to a newer pod.
    const std::optional<ambit_pod> owner = pods.lookup(*ip);
    if (owner && owner->netns_cookie == netns_cookie) {
      pods.erase(*ip);
      listenMap(*skeleton_).erase(*ip);
    }
  }
}

absl::Status BpfCapture::release(uint64_t netns_cookie) {
  AMBIT_RETURN_IF_ERROR(detachPinned(netnsPin(options_, netns_cookie)));
  if (const auto config = netnsMap(*skeleton_).lookup(netns_cookie)) {
    removeEntries(netns_cookie, *config);
  }
  return absl::OkStatus();
}

bool BpfCapture::enrolled(uint64_t netns_cookie) const {
  return netnsMap(*skeleton_).lookup(netns_cookie).has_value();
}

std::vector<uint64_t> BpfCapture::enrolledNetns() const {
  return netnsMap(*skeleton_).keys(options_.max_pods);
}

BpfCounters BpfCapture::counters() const {
  BpfCounters totals{};
  const int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return totals;
  std::vector<uint64_t> per_cpu(static_cast<size_t>(cpus));
  const int fd = bpf_map__fd(skeleton_->maps.ambit_counters);
  for (uint32_t reason = 0; reason < AMBIT_CAPTURE_REASON_COUNT; ++reason) {
    if (bpf_map_lookup_elem(fd, &reason, per_cpu.data()) != 0) continue;
    for (uint64_t v : per_cpu) totals[reason] += v;
  }
  return totals;
}

std::string BpfCapture::describeJson() const {
  json::Writer w;
  w.beginObject();
  w.key("cgroup").value(options_.cgroup);
  w.key("pin_dir").value(options_.pin_dir);
  w.key("adopted").value(adopted_);
  w.key("programs").beginArray();
  bpf_program* program = nullptr;
  bpf_object__for_each_program(program, skeleton_->obj) {
    w.beginObject();
    w.key("name").value(bpf_program__name(program));
    w.key("section").value(bpf_program__section_name(program));
    w.key("id").value(static_cast<int64_t>(objectId<bpf_prog_info>(bpf_program__fd(program))));
    w.endObject();
  }
  w.endArray();
  w.key("cgroup_links").beginArray();
  for (const CgroupHook& hook : kCgroupHooks) {
    const std::string pin = absl::StrCat(options_.pin_dir, "/links/", hook.name);
    w.beginObject().key("hook").value(hook.name).key("pin").value(pin);
    UniqueFd fd(bpf_obj_get(pin.c_str()));
    w.key("program_id").value(static_cast<int64_t>(fd ? linkProgramId(fd.get()) : 0));
    w.endObject();
  }
  w.endArray();
  w.key("maps").beginArray();
  bpf_map* map = nullptr;
  bpf_object__for_each_map(map, skeleton_->obj) {
    w.beginObject();
    w.key("name").value(bpf_map__name(map));
    w.key("id").value(static_cast<int64_t>(objectId<bpf_map_info>(bpf_map__fd(map))));
    w.key("max_entries").value(static_cast<int64_t>(bpf_map__max_entries(map)));
    w.key("pin").value(bpf_map__pin_path(map) ? bpf_map__pin_path(map) : "");
    w.endObject();
  }
  w.endArray();
  w.key("enrolled_netns").beginArray();
  const auto netns = netnsMap(*skeleton_);
  for (uint64_t cookie : enrolledNetns()) {
    const std::optional<ambit_netns_config> found = netns.lookup(cookie);
    if (!found) continue;
    const ambit_netns_config& config = *found;
    w.beginObject();
    w.key("cookie").value(static_cast<int64_t>(cookie));
    w.key("addresses").beginArray();
    if (config.flags & AMBIT_NETNS_HAS_IP4) w.value(ipText(config.ip4));
    if (config.flags & AMBIT_NETNS_HAS_IP6) w.value(ipText(config.ip6));
    w.endArray();
    w.key("outbound_port").value(static_cast<int64_t>(config.outbound_port));
    w.key("inbound_port").value(static_cast<int64_t>(config.inbound_port));
    w.key("hbone_port").value(static_cast<int64_t>(config.hbone_port));
    w.key("sk_lookup_pinned").value(fs::exists(netnsPin(options_, cookie)));
    w.endObject();
  }
  w.endArray();
  w.key("counters").beginObject();
  const BpfCounters totals = counters();
  for (uint32_t reason = 0; reason < AMBIT_CAPTURE_REASON_COUNT; ++reason) {
    w.key(absl::StrCat(bpfReasonHook(reason), ".", bpfReasonLabel(reason)))
        .value(static_cast<int64_t>(totals[reason]));
  }
  w.endObject();
  w.endObject();
  return w.str();
}

absl::Status BpfCapture::uninstallIfPinned(const BpfCaptureOptions& options) {
  std::error_code ec;
  if (!fs::exists(options.pin_dir, ec)) return absl::OkStatus();
  logger()->info("capture mode nftables: removing the eBPF capture pinned under {}",
                 options.pin_dir);
  return uninstall(options);
}

absl::Status BpfCapture::uninstall(const BpfCaptureOptions& given) {
  routeLibbpfLog();
  AMBIT_ASSIGN_OR_RETURN(const BpfCaptureOptions options, resolve(given));
  AMBIT_ASSIGN_OR_RETURN(UniqueFd lock, lockCgroup(options));
  std::error_code ec;
  if (!fs::exists(options.pin_dir, ec)) return absl::OkStatus();
  for (const char* sub : {"links", "netns"}) {
    for (const auto& entry : fs::directory_iterator(fs::path(options.pin_dir) / sub, ec)) {
      AMBIT_RETURN_IF_ERROR(detachPinned(entry.path().string()));
    }
  }
  fs::remove_all(options.pin_dir, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("eBPF capture: remove ", options.pin_dir, ": ", ec.message()));
  }
  logger()->info("eBPF capture: detached and unpinned everything under {}", options.pin_dir);
  return absl::OkStatus();
}

}  // namespace ambit::agent
