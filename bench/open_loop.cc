// open_loop: an open-loop request/response load generator, an epoll echo server, an idle
// connection holder and a TLS handshake client, for the data-path benchmarks run inside lab pods
// (bench/lab_hbone_bench). Every client run is bounded in duration and in count.
//
//   open_loop rr --target IP:PORT [--rate R] [--connections C] [--size S] [--seconds T]
//                [--max-requests N] [--drain-seconds D]
//        Open loop: request k is scheduled at start + k/R (round robin over C connections, so each
//        connection sends every C/R seconds) and sent at that time whether or not earlier answers
//        came back. Each answer's latency is measured from its scheduled send time, so queueing
//        anywhere (including a late sender) shows in the figures: no coordinated omission. After
//        T seconds (or N requests) nothing more is sent; answers still missing D seconds later
//        count as lost. Prints one JSON object: rate, sent, received, errors, lost, latency
//        percentiles p50/p90/p99/p99.9/max in µs, and how late sends left (send_lag_*).
//   open_loop serve --port P
//        Echo every byte back, on one epoll thread (any number of connections, bounded by fds).
//   open_loop hold --target IP:PORT [--connections N] [--parallel P] [--seconds T]
//        Opens N connections (each checked with a 1-byte round trip), prints a JSON line when they
//        are open, keeps them idle until stdin closes or has a line, or T seconds pass, then checks
//        each with another round trip (for at most 30 s) and prints a second JSON line (how many
//        were still alive). Opening stops after T seconds too.
//   open_loop handshake --target IP:PORT --cert FILE --key FILE --ca FILE [--alpn PROTO]
//                       [--connections C] [--seconds T]
//        Full mutual TLS 1.3 handshakes (TLS_AES_128_GCM_SHA256, X25519, no session resumption)
//        on C threads, each a new TCP connection: connect, handshake presenting the certificate,
//        verify the server's chain to the CA, then close_notify and wait for the server to close,
//        so the server has checked this side's certificate before the next one starts (a refusal
//        arrives as an alert and counts as an error). Reports handshakes per second and latency.
//
// Output is JSON on stdout, one object per line.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "open_loop: %s\n", message.c_str());
  std::exit(2);
}

struct Options {
  std::string mode;
  std::string target;
  int port = 0;
  double rate = 1000;
  int connections = 0;  // 0: the mode's default
  size_t size = 1024;
  double seconds = 5;
  uint64_t max_requests = 0;  // 0: rate * seconds
  double drain_seconds = 2;
  int parallel = 16;
  std::string cert;
  std::string key;
  std::string ca;
  std::string alpn;
};

double number(const std::string& flag, const std::string& value, double low, double high) {
  char* end = nullptr;
  const double v = std::strtod(value.c_str(), &end);
  if (end == value.c_str() || *end != '\0' || !std::isfinite(v) || v < low || v > high) {
    die(flag + " must be a number in [" + std::to_string(low) + ", " + std::to_string(high) +
        "], got '" + value + "'");
  }
  return v;
}

Options parse(int argc, char** argv) {
  if (argc < 2) die("usage: open_loop rr|serve|hold|handshake [options] (see the source header)");
  Options options;
  options.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) die(flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--target") {
      options.target = value;
    } else if (flag == "--port") {
      options.port = static_cast<int>(number(flag, value, 1, 65535));
    } else if (flag == "--rate") {
      options.rate = number(flag, value, 1, 1e6);
    } else if (flag == "--connections") {
      options.connections = static_cast<int>(number(flag, value, 1, 100000));
    } else if (flag == "--size") {
      options.size = static_cast<size_t>(number(flag, value, 1, 1 << 20));
    } else if (flag == "--seconds") {
      options.seconds = number(flag, value, 0.1, 600);
    } else if (flag == "--max-requests") {
      options.max_requests = static_cast<uint64_t>(number(flag, value, 1, 50e6));
    } else if (flag == "--drain-seconds") {
      options.drain_seconds = number(flag, value, 0.1, 30);
    } else if (flag == "--cert") {
      options.cert = value;
    } else if (flag == "--key") {
      options.key = value;
    } else if (flag == "--ca") {
      options.ca = value;
    } else if (flag == "--alpn") {
      if (value.empty() || value.size() > 255) die("--alpn must be 1..255 bytes");
      options.alpn = value;
    } else if (flag == "--parallel") {
      options.parallel = static_cast<int>(number(flag, value, 1, 256));
    } else {
      die("unknown option " + flag);
    }
  }
  return options;
}

sockaddr_in parseTarget(const std::string& target) {
  const size_t colon = target.rfind(':');
  if (colon == std::string::npos) die("--target must be IP:PORT");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(std::atoi(target.substr(colon + 1).c_str())));
  if (inet_pton(AF_INET, target.substr(0, colon).c_str(), &address.sin_addr) != 1) {
    die("--target must be an IPv4 address and port: " + target);
  }
  return address;
}

// Lets this process use as many descriptors as its hard limit allows.
void raiseFdLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

void setTimeouts(int fd, long seconds) {
  const timeval timeout{seconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
}

// Sends, receives and the connect itself time out after 5 s on the returned socket.
int connectTo(const sockaddr_in& address) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  setTimeouts(fd, 5);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool writeAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool readAll(int fd, char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::recv(fd, data, size, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

double micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

double percentile(std::vector<double>& samples, double p) {
  if (samples.empty()) return 0;
  const size_t index =
      std::min(samples.size() - 1, static_cast<size_t>(p * static_cast<double>(samples.size())));
  std::nth_element(samples.begin(), samples.begin() + static_cast<long>(index), samples.end());
  return samples[index];
}

// ------------------------------------------------------------------------------------ open loop

// One connection of the open-loop run: its sender writes requests at their scheduled times and
// queues those times; its receiver reads the answers in order (TCP echo keeps them in order) and
// measures each from the time its request was scheduled.
struct Connection {
  int fd = -1;
  std::mutex mu;
  std::deque<Clock::time_point> pending;  // scheduled times of requests without an answer yet
  bool sender_done = false;
  bool broken = false;        // a read or write failed, or the answer bytes made no sense
  bool write_failed = false;  // a request could not be sent
  uint64_t sent = 0;
  uint64_t received = 0;
  std::vector<double> latencies_us;
  std::vector<double> send_lag_us;  // how late each request left against its schedule
};

void sleepUntil(Clock::time_point when) {
  // steady_clock is CLOCK_MONOTONIC on Linux; an absolute sleep does not drift.
  const auto since_epoch = when.time_since_epoch();
  timespec ts{};
  ts.tv_sec =
      static_cast<time_t>(std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count());
  ts.tv_nsec = static_cast<long>((since_epoch - std::chrono::seconds(ts.tv_sec)).count());
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

void openLoop(const Options& options) {
  const sockaddr_in address = parseTarget(options.target);
  const int connections = options.connections > 0 ? options.connections : 4;
  const double total = options.max_requests > 0
                           ? static_cast<double>(options.max_requests)
                           : std::min(50e6, std::floor(options.rate * options.seconds));
  const auto requests = static_cast<uint64_t>(total);
  const std::chrono::duration<double> interval(1.0 / options.rate);

  std::vector<std::unique_ptr<Connection>> conns;
  std::vector<char> warmup(options.size, 'w');
  for (int i = 0; i < connections; ++i) {
    auto c = std::make_unique<Connection>();
    c->fd = connectTo(address);
    // One round trip first, so a proxy's connection setup is not part of the figures.
    if (c->fd < 0 || !writeAll(c->fd, warmup.data(), warmup.size()) ||
        !readAll(c->fd, warmup.data(), warmup.size())) {
      die("cannot connect to " + options.target + " (or no echo): " + std::strerror(errno));
    }
    // From here, blocked sends and receives end when the run's deadline shuts the socket down.
    setTimeouts(c->fd, 0);
    const uint64_t mine =
        requests / connections + (static_cast<uint64_t>(i) < requests % connections);
    c->latencies_us.reserve(mine);
    c->send_lag_us.reserve(mine);
    conns.push_back(std::move(c));
  }

  // Starts a little ahead, so every thread is waiting when the first request is due.
  const Clock::time_point start = Clock::now() + std::chrono::milliseconds(20);
  const Clock::time_point stop_sending =
      start +
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.seconds));
  std::mutex done_mu;
  std::condition_variable done_cv;
  int receivers_left = connections;
  std::vector<std::thread> threads;
  for (int i = 0; i < connections; ++i) {
    Connection* c = conns[static_cast<size_t>(i)].get();
    threads.emplace_back([&, c, i] {
      ::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);  // wake up on time, not up to 50 µs late
      std::vector<char> request(options.size, 'x');
      for (uint64_t k = static_cast<uint64_t>(i); k < requests;
           k += static_cast<uint64_t>(connections)) {
        const Clock::time_point scheduled =
            start + std::chrono::duration_cast<Clock::duration>(interval * static_cast<double>(k));
        if (scheduled >= stop_sending) break;
        sleepUntil(scheduled);
        {
          std::lock_guard lock(c->mu);
          if (c->broken) break;
          c->pending.push_back(scheduled);
        }
        const Clock::time_point now = Clock::now();
        c->send_lag_us.push_back(micros(now - scheduled));
        if (!writeAll(c->fd, request.data(), request.size())) {
          std::lock_guard lock(c->mu);
          c->broken = true;
          c->write_failed = true;
          c->pending.pop_back();
          break;
        }
        ++c->sent;
      }
      std::lock_guard lock(c->mu);
      c->sender_done = true;
      // A receiver already waiting for an answer that will never be asked for wakes up.
      if (c->pending.empty()) ::shutdown(c->fd, SHUT_RD);
    });
    threads.emplace_back([&, c] {
      std::vector<char> answer(options.size);
      while (true) {
        {
          std::lock_guard lock(c->mu);
          if (c->sender_done && c->pending.empty()) break;
        }
        if (!readAll(c->fd, answer.data(), answer.size())) {
          std::lock_guard lock(c->mu);
          if (!c->sender_done || !c->pending.empty()) c->broken = true;
          break;
        }
        const Clock::time_point now = Clock::now();
        Clock::time_point scheduled;
        {
          std::lock_guard lock(c->mu);
          if (c->pending.empty()) {  // more bytes than requests: the echo is wrong
            c->broken = true;
            break;
          }
          scheduled = c->pending.front();
          c->pending.pop_front();
        }
        c->latencies_us.push_back(micros(now - scheduled));
        ++c->received;
      }
      std::lock_guard lock(done_mu);
      --receivers_left;
      done_cv.notify_all();
    });
  }
  // Senders finish by stop_sending; receivers get drain_seconds more, then their sockets are shut
  // down so that every thread ends within the bound.
  const Clock::time_point deadline =
      stop_sending + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(options.drain_seconds));
  {
    std::unique_lock lock(done_mu);
    done_cv.wait_until(lock, deadline, [&] { return receivers_left == 0; });
  }
  for (auto& c : conns) ::shutdown(c->fd, SHUT_RDWR);
  for (auto& t : threads) t.join();
  const double elapsed =
      std::chrono::duration<double>(std::min(Clock::now(), stop_sending) - start).count();

  uint64_t sent = 0;
  uint64_t received = 0;
  uint64_t lost = 0;
  uint64_t broken = 0;
  uint64_t write_failures = 0;
  std::vector<double> latencies;
  std::vector<double> lags;
  for (auto& c : conns) {
    sent += c->sent;
    received += c->received;
    lost += c->pending.size();
    broken += c->broken ? 1 : 0;
    write_failures += c->write_failed ? 1 : 0;
    latencies.insert(latencies.end(), c->latencies_us.begin(), c->latencies_us.end());
    lags.insert(lags.end(), c->send_lag_us.begin(), c->send_lag_us.end());
    ::close(c->fd);
  }
  double mean = 0;
  double max = 0;
  for (double v : latencies) {
    mean += v;
    max = std::max(max, v);
  }
  if (!latencies.empty()) mean /= static_cast<double>(latencies.size());
  std::printf(
      "{\"mode\":\"open-loop\",\"target\":\"%s\",\"rate\":%.0f,\"connections\":%d,\"size\":%zu,"
      "\"seconds\":%.2f,\"sent\":%llu,\"received\":%llu,\"errors\":%llu,\"lost\":%llu,"
      "\"broken_connections\":%llu,"
      "\"achieved_rate\":%.0f,\"mean_us\":%.1f,\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,"
      "\"p999_us\":%.1f,\"max_us\":%.1f,\"send_lag_p50_us\":%.1f,\"send_lag_p99_us\":%.1f}\n",
      options.target.c_str(), options.rate, connections, options.size, elapsed,
      static_cast<unsigned long long>(sent), static_cast<unsigned long long>(received),
      static_cast<unsigned long long>(lost) + write_failures, static_cast<unsigned long long>(lost),
      static_cast<unsigned long long>(broken),
      elapsed > 0 ? static_cast<double>(received) / elapsed : 0.0, mean,
      percentile(latencies, 0.50), percentile(latencies, 0.90), percentile(latencies, 0.99),
      percentile(latencies, 0.999), max, percentile(lags, 0.50), percentile(lags, 0.99));
}

// ---------------------------------------------------------------------------------------- serve

void serve(const Options& options) {
  if (options.port <= 0) die("serve needs --port 1..65535");
  raiseFdLimit();
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  const int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(options.port));
  if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(listener, 4096) != 0) {
    die("cannot listen on port " + std::to_string(options.port) + ": " + std::strerror(errno));
  }
  const int epoll = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = listener;
  ::epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &event);
  // Bytes read but not yet written back, per connection; while some wait, the connection is
  // watched for writability only, so a client that does not read cannot grow them.
  std::unordered_map<int, std::string> unsent;
  std::vector<char> buffer(size_t{64} * 1024);
  std::vector<epoll_event> events(256);
  auto closeConnection = [&](int fd) {
    ::epoll_ctl(epoll, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    unsent.erase(fd);
  };
  auto watch = [&](int fd, uint32_t what) {
    epoll_event e{};
    e.events = what;
    e.data.fd = fd;
    ::epoll_ctl(epoll, EPOLL_CTL_MOD, fd, &e);
  };
  while (true) {
    const int n = ::epoll_wait(epoll, events.data(), static_cast<int>(events.size()), -1);
    for (int i = 0; i < n; ++i) {
      const int fd = events[static_cast<size_t>(i)].data.fd;
      if (fd == listener) {
        while (true) {
          const int client = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
          if (client < 0) break;
          ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
          epoll_event e{};
          e.events = EPOLLIN;
          e.data.fd = client;
          ::epoll_ctl(epoll, EPOLL_CTL_ADD, client, &e);
        }
        continue;
      }
      auto waiting = unsent.find(fd);
      if (waiting != unsent.end()) {
        const ssize_t w = ::send(fd, waiting->second.data(), waiting->second.size(), MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (w <= 0) {
          closeConnection(fd);
          continue;
        }
        waiting->second.erase(0, static_cast<size_t>(w));
        if (waiting->second.empty()) {
          unsent.erase(waiting);
          watch(fd, EPOLLIN);
        }
        continue;
      }
      const ssize_t r = ::recv(fd, buffer.data(), buffer.size(), 0);
      if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (r <= 0) {
        closeConnection(fd);
        continue;
      }
      ssize_t w = ::send(fd, buffer.data(), static_cast<size_t>(r), MSG_NOSIGNAL);
      if (w < 0 && errno == EAGAIN) w = 0;
      if (w < 0) {
        closeConnection(fd);
        continue;
      }
      if (w < r) {
        unsent[fd].assign(buffer.data() + w, static_cast<size_t>(r - w));
        watch(fd, EPOLLOUT);
      }
    }
  }
}

// ----------------------------------------------------------------------------------------- hold

// A 1-byte round trip (bounded by the socket's 5 s timeouts).
bool ping(int fd) {
  char byte = 'p';
  return writeAll(fd, &byte, 1) && readAll(fd, &byte, 1);
}

template <typename Work>
void inParallel(int threads, size_t count, Work work) {
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  workers.reserve(static_cast<size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (size_t i = next++; i < count; i = next++) work(i);
    });
  }
  for (auto& w : workers) w.join();
}

void hold(const Options& options) {
  raiseFdLimit();
  const sockaddr_in address = parseTarget(options.target);
  const size_t count = static_cast<size_t>(options.connections > 0 ? options.connections : 1000);
  const auto started = Clock::now();
  const auto open_deadline = started + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(options.seconds));
  std::vector<int> fds(count, -1);
  std::atomic<uint64_t> errors{0};
  inParallel(options.parallel, count, [&](size_t i) {
    if (Clock::now() > open_deadline) return;
    const int fd = connectTo(address);
    if (fd < 0) {
      ++errors;
      return;
    }
    if (!ping(fd)) {
      ::close(fd);
      ++errors;
      return;
    }
    fds[i] = fd;
  });
  const size_t opened =
      static_cast<size_t>(std::count_if(fds.begin(), fds.end(), [](int fd) { return fd >= 0; }));
  const double open_seconds = std::chrono::duration<double>(Clock::now() - started).count();
  std::printf(
      "{\"mode\":\"hold\",\"target\":\"%s\",\"requested\":%zu,\"opened\":%zu,\"errors\":%llu,"
      "\"open_seconds\":%.2f}\n",
      options.target.c_str(), count, opened, static_cast<unsigned long long>(errors.load()),
      open_seconds);
  std::fflush(stdout);

  // Idle until told (a line or EOF on stdin) or the time is up.
  const auto held_from = Clock::now();
  const auto hold_deadline = held_from + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(options.seconds));
  while (Clock::now() < hold_deadline) {
    pollfd input{0, POLLIN, 0};
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(hold_deadline - Clock::now());
    const int ready = ::poll(&input, 1, static_cast<int>(std::max<long>(1, left.count())));
    if (ready > 0) break;
    if (ready < 0 && errno != EINTR) break;
  }
  const double held = std::chrono::duration<double>(Clock::now() - held_from).count();
  std::atomic<size_t> alive{0};
  const auto check_deadline = Clock::now() + std::chrono::seconds(30);
  inParallel(options.parallel, count, [&](size_t i) {
    if (fds[i] < 0) return;
    if (Clock::now() < check_deadline && ping(fds[i])) ++alive;
    ::close(fds[i]);
  });
  std::printf("{\"mode\":\"hold-end\",\"held_seconds\":%.2f,\"opened\":%zu,\"alive\":%zu}\n", held,
              opened, alive.load());
}

// ------------------------------------------------------------------------------------ handshake

[[noreturn]] void dieSsl(const std::string& what) {
  char text[256];
  ERR_error_string_n(ERR_get_error(), text, sizeof(text));
  die(what + ": " + text);
}

SSL_CTX* clientContext(const Options& options) {
  if (options.cert.empty() || options.key.empty() || options.ca.empty()) {
    die("handshake needs --cert, --key and --ca");
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) dieSsl("SSL_CTX_new");
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256") != 1 ||
      SSL_CTX_set1_groups_list(ctx, "X25519") != 1) {
    dieSsl("TLS 1.3, TLS_AES_128_GCM_SHA256, X25519");
  }
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  if (SSL_CTX_use_certificate_chain_file(ctx, options.cert.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, options.key.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    dieSsl("certificate " + options.cert + " and key " + options.key);
  }
  if (SSL_CTX_load_verify_locations(ctx, options.ca.c_str(), nullptr) != 1) {
    dieSsl("CA " + options.ca);
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (!options.alpn.empty()) {
    std::string wire(1, static_cast<char>(options.alpn.size()));
    wire += options.alpn;
    if (SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                                static_cast<unsigned int>(wire.size())) != 0) {
      dieSsl("ALPN");
    }
  }
  return ctx;
}

// One full handshake on a new connection; the error text, or empty on success.
std::string handshakeOnce(SSL_CTX* ctx, const sockaddr_in& address) {
  const int fd = connectTo(address);
  if (fd < 0) return std::string("connect: ") + std::strerror(errno);
  SSL* ssl = SSL_new(ctx);
  std::string error;
  if (ssl == nullptr || SSL_set_fd(ssl, fd) != 1) {
    error = "SSL_new";
  } else if (SSL_connect(ssl) != 1) {
    char text[256];
    ERR_error_string_n(ERR_get_error(), text, sizeof(text));
    error = std::string("handshake: ") + text;
  } else {
    // The server reads this side's Finished (and checks its certificate) before it can see the
    // close_notify; a refusal comes back as an alert, an acceptance as its close.
    SSL_shutdown(ssl);
    char byte;
    const int n = SSL_read(ssl, &byte, 1);
    const unsigned long code =
        n <= 0 && SSL_get_error(ssl, n) == SSL_ERROR_SSL ? ERR_get_error() : 0;
    // Closing without a close_notify is fine; an alert is a refusal.
    if (ERR_GET_LIB(code) == ERR_LIB_SSL && ERR_GET_REASON(code) >= SSL_AD_REASON_OFFSET) {
      char text[256];
      ERR_error_string_n(code, text, sizeof(text));
      error = std::string("refused after the handshake: ") + text;
    }
  }
  ERR_clear_error();
  SSL_free(ssl);
  ::close(fd);
  return error;
}

void handshakes(const Options& options) {
  const sockaddr_in address = parseTarget(options.target);
  SSL_CTX* ctx = clientContext(options);
  const int threads = options.connections > 0 ? std::min(options.connections, 64) : 4;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(options.seconds));
  std::mutex mu;
  std::vector<double> latencies;
  uint64_t errors = 0;
  std::string first_error;
  std::vector<std::thread> workers;
  workers.reserve(static_cast<size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      std::vector<double> mine;
      uint64_t failed = 0;
      std::string error;
      while (Clock::now() < deadline && failed <= 1000) {
        const auto before = Clock::now();
        std::string e = handshakeOnce(ctx, address);
        if (!e.empty()) {
          ++failed;
          if (error.empty()) error = std::move(e);
          continue;
        }
        mine.push_back(micros(Clock::now() - before));
      }
      std::lock_guard lock(mu);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
      errors += failed;
      if (first_error.empty()) first_error = error;
    });
  }
  for (auto& w : workers) w.join();
  SSL_CTX_free(ctx);
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::string escaped;
  for (char c : first_error) {
    if (c == '"' || c == '\\') escaped += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) escaped += c;
  }
  std::printf(
      "{\"mode\":\"handshake\",\"target\":\"%s\",\"connections\":%d,\"seconds\":%.2f,"
      "\"handshakes\":%zu,\"errors\":%llu,\"per_second\":%.0f,\"p50_us\":%.1f,"
      "\"p99_us\":%.1f,\"first_error\":\"%s\"}\n",
      options.target.c_str(), threads, elapsed, latencies.size(),
      static_cast<unsigned long long>(errors), static_cast<double>(latencies.size()) / elapsed,
      percentile(latencies, 0.50), percentile(latencies, 0.99), escaped.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  if (options.mode == "rr") {
    openLoop(options);
  } else if (options.mode == "serve") {
    serve(options);
  } else if (options.mode == "hold") {
    hold(options);
  } else if (options.mode == "handshake") {
    handshakes(options);
  } else {
    die("unknown mode " + options.mode + " (rr, serve, hold or handshake)");
  }
  return 0;
}
