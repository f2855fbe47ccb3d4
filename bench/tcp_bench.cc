// tcp_bench: a small TCP load generator and echo server for data-path benchmarks, run inside lab
// pods (`scripts/lab exec POD -- tcp_bench ...`). Every run is bounded by --seconds.
//
//   tcp_bench serve --port P                         echo every byte back, one thread per
//   connection tcp_bench rr --target IP:PORT [--connections C] [--size S] [--seconds T]
//        request/response on C long-lived connections: send S bytes, read S back; reports
//        requests per second and latency percentiles
//   tcp_bench connect --target IP:PORT [--seconds T]
//        one new connection per request (connect, 1 byte each way, close)
//   tcp_bench stream --target IP:PORT [--seconds T]
//        one connection, 64 KiB writes while a reader drains the echo; reports MiB/s echoed
//
// Output is one JSON object per run on stdout.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "tcp_bench: %s\n", message.c_str());
  std::exit(2);
}

struct Options {
  std::string mode;
  std::string target;
  int port = 0;
  int connections = 1;
  size_t size = 64;
  double seconds = 5;
};

Options parse(int argc, char** argv) {
  if (argc < 2) die("usage: tcp_bench serve|rr|connect|stream [options] (see the source header)");
  Options options;
  options.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) die(flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--target") {
      options.target = value;
    } else if (flag == "--port") {
      options.port = std::atoi(value.c_str());
    } else if (flag == "--connections") {
      options.connections = std::clamp(std::atoi(value.c_str()), 1, 256);
    } else if (flag == "--size") {
      options.size = std::clamp<size_t>(std::strtoul(value.c_str(), nullptr, 10), 1, 1 << 20);
    } else if (flag == "--seconds") {
      options.seconds = std::clamp(std::atof(value.c_str()), 0.1, 120.0);
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

int connectTo(const sockaddr_in& address) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool writeAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool readAll(int fd, char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::recv(fd, data, size, 0);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

void serve(const Options& options) {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(options.port));
  if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(listener, 1024) != 0) {
    die("cannot listen on port " + std::to_string(options.port) + ": " + std::strerror(errno));
  }
  while (true) {
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    std::thread([fd] {
      std::vector<char> buffer(64 * 1024);
      while (true) {
        const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
        if (n <= 0 || !writeAll(fd, buffer.data(), static_cast<size_t>(n))) break;
      }
      ::close(fd);
    }).detach();
  }
}

double percentile(std::vector<double>& samples, double p) {
  if (samples.empty()) return 0;
  const size_t index = std::min(samples.size() - 1, static_cast<size_t>(p * samples.size()));
  std::nth_element(samples.begin(), samples.begin() + static_cast<long>(index), samples.end());
  return samples[index];
}

void report(const Options& options, uint64_t requests, uint64_t errors, double elapsed,
            std::vector<double>& latencies_us) {
  std::printf(
      "{\"mode\":\"%s\",\"target\":\"%s\",\"connections\":%d,\"size\":%zu,\"seconds\":%.2f,"
      "\"requests\":%llu,\"errors\":%llu,\"per_second\":%.0f,\"p50_us\":%.1f,\"p99_us\":%.1f}\n",
      options.mode.c_str(), options.target.c_str(), options.connections, options.size, elapsed,
      static_cast<unsigned long long>(requests), static_cast<unsigned long long>(errors),
      requests / elapsed, percentile(latencies_us, 0.50), percentile(latencies_us, 0.99));
}

// Runs `work` on `threads` threads until the deadline; each call is one timed request.
template <typename Work>
void timedRequests(const Options& options, int threads, Work work) {
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(options.seconds);
  std::mutex mu;
  std::vector<double> latencies;
  uint64_t requests = 0;
  uint64_t errors = 0;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      std::vector<double> mine;
      uint64_t failed = 0;
      auto state = work.begin();
      while (Clock::now() < deadline) {
        const auto before = Clock::now();
        if (!work.once(state)) {
          ++failed;
          if (failed > 1000) break;
          continue;
        }
        mine.push_back(std::chrono::duration<double, std::micro>(Clock::now() - before).count());
      }
      work.end(state);
      std::lock_guard lock(mu);
      requests += mine.size();
      errors += failed;
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  }
  for (auto& worker : workers) worker.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  report(options, requests, errors, elapsed, latencies);
}

struct RequestResponse {
  sockaddr_in address;
  size_t size;
  struct State {
    int fd = -1;
    std::vector<char> buffer;
  };
  State begin() const { return State{connectTo(address), std::vector<char>(size, 'x')}; }
  bool once(State& state) const {
    if (state.fd < 0) state.fd = connectTo(address);
    if (state.fd < 0) return false;
    if (!writeAll(state.fd, state.buffer.data(), size) ||
        !readAll(state.fd, state.buffer.data(), size)) {
      ::close(state.fd);
      state.fd = -1;
      return false;
    }
    return true;
  }
  void end(State& state) const {
    if (state.fd >= 0) ::close(state.fd);
  }
};

struct ConnectPerRequest {
  sockaddr_in address;
  int begin() const { return 0; }
  bool once(int&) const {
    const int fd = connectTo(address);
    if (fd < 0) return false;
    char byte = 'x';
    const bool ok = writeAll(fd, &byte, 1) && readAll(fd, &byte, 1);
    ::close(fd);
    return ok;
  }
  void end(int&) const {}
};

void stream(const Options& options) {
  const int fd = connectTo(parseTarget(options.target));
  if (fd < 0) die("cannot connect to " + options.target);
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    std::vector<char> chunk(64 * 1024, 'x');
    while (!stop.load() && writeAll(fd, chunk.data(), chunk.size())) {
    }
    ::shutdown(fd, SHUT_WR);
  });
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(options.seconds);
  uint64_t received = 0;
  std::vector<char> buffer(256 * 1024);
  while (Clock::now() < deadline) {
    const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (n <= 0) break;
    received += static_cast<uint64_t>(n);
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  stop.store(true);
  ::shutdown(fd, SHUT_RDWR);
  writer.join();
  ::close(fd);
  std::printf(
      "{\"mode\":\"stream\",\"target\":\"%s\",\"seconds\":%.2f,\"bytes\":%llu,"
      "\"mib_per_second\":%.1f}\n",
      options.target.c_str(), elapsed, static_cast<unsigned long long>(received),
      received / elapsed / (1024.0 * 1024.0));
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  if (options.mode == "serve") {
    if (options.port <= 0 || options.port > 65535) die("serve needs --port 1..65535");
    serve(options);
  } else if (options.mode == "rr") {
    timedRequests(options, options.connections,
                  RequestResponse{parseTarget(options.target), options.size});
  } else if (options.mode == "connect") {
    timedRequests(options, options.connections, ConnectPerRequest{parseTarget(options.target)});
  } else if (options.mode == "stream") {
    stream(options);
  } else {
    die("unknown mode " + options.mode + " (serve, rr, connect or stream)");
  }
  return 0;
}
