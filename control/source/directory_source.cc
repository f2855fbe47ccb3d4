#include "control/source/directory_source.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "core/errno_text.h"
#include "core/log.h"

namespace ambit::control::source {
namespace {

namespace fs = std::filesystem;

constexpr uint32_t kWatchMask = IN_CREATE | IN_DELETE | IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_FROM |
                                IN_MOVED_TO | IN_DELETE_SELF | IN_ONLYDIR;

bool isConfigFile(const fs::path& path) {
  const std::string ext = path.extension().string();
  const std::string name = path.filename().string();
  // Editors' swap and backup files are not configuration.
  if (name.empty() || name[0] == '.' || name.back() == '~') return false;
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

std::shared_ptr<spdlog::logger> logger() { return log::get("config-source"); }

}  // namespace

absl::StatusOr<std::unique_ptr<DirectorySource>> DirectorySource::create(Options options) {
  std::error_code ec;
  if (!fs::is_directory(options.root, ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat("config directory ", options.root, ": not a directory"));
  }
  const int inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd < 0) {
    return absl::InternalError(absl::StrCat("inotify_init1: ", errnoText(errno)));
  }
  const int stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (stop_fd < 0) {
    close(inotify_fd);
    return absl::InternalError(absl::StrCat("eventfd: ", errnoText(errno)));
  }
  return std::unique_ptr<DirectorySource>(
      new DirectorySource(std::move(options), inotify_fd, stop_fd));
}

DirectorySource::DirectorySource(Options options, int inotify_fd, int stop_fd)
    : options_(std::move(options)), inotify_fd_(inotify_fd), stop_fd_(stop_fd) {}

DirectorySource::~DirectorySource() {
  stop();
  close(inotify_fd_);
  close(stop_fd_);
}

absl::Status DirectorySource::start(Listener listener) {
  listener_ = std::move(listener);
  std::set<std::string> files;
  watchTree(options_.root, files);
  for (const std::string& file : files) reloadFile(file);
  logger()->info("watching {}: {} files", options_.root, files.size());
  publish();
  thread_ = std::thread([this] { run(); });
  return absl::OkStatus();
}

void DirectorySource::stop() {
  if (stopping_.exchange(true)) return;
  const uint64_t one = 1;
  if (write(stop_fd_, &one, sizeof(one)) < 0) {
    logger()->warn("eventfd write: {}", errnoText(errno));
  }
  if (thread_.joinable()) thread_.join();
}

void DirectorySource::watchTree(const std::string& dir, std::set<std::string>& files_found) {
  const int wd = inotify_add_watch(inotify_fd_, dir.c_str(), kWatchMask);
  if (wd < 0) {
    logger()->warn("cannot watch {}: {}", dir, errnoText(errno));
    return;
  }
  watches_[wd] = dir;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec)) {
      watchTree(it->path().string(), files_found);
    } else if (it->is_regular_file(ec) && isConfigFile(it->path())) {
      files_found.insert(it->path().string());
    }
  }
}

void DirectorySource::reloadFile(const std::string& file) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    objects_.updateFile(file, std::nullopt);
    return;
  }
  config::LoadResult loaded;
  config::Loader().loadPath(file, loaded);
  objects_.updateFile(file, std::move(loaded));
}

void DirectorySource::publish() {
  ConfigStatePtr state = objects_.state();
  size_t rejected = 0;
  for (const ObjectStatus& s : state->statuses) rejected += s.accepted ? 0 : 1;
  logger()->info("config generation {}: {} objects in force, {} rejected", state->generation,
                 state->objects.size(), rejected);
  if (listener_) listener_(std::move(state));
}

void DirectorySource::applyChanges(const std::set<std::string>& paths) {
  for (const std::string& path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      // A new directory (created or moved in): watch it and load what it already holds.
      std::set<std::string> files;
      watchTree(path, files);
      for (const std::string& file : files) reloadFile(file);
    } else if (isConfigFile(path)) {
      reloadFile(path);  // created, changed, or removed (then its objects go)
    }
  }
}

void DirectorySource::rescan() {
  std::set<std::string> files;
  for (auto& [wd, dir] : watches_) inotify_rm_watch(inotify_fd_, wd);
  watches_.clear();
  watchTree(options_.root, files);
  for (const std::string& file : files) reloadFile(file);
  // Files that are gone (with a removed directory, or events lost) take their objects with them.
  for (const std::string& file : objects_.files()) {
    if (files.count(file) == 0) objects_.updateFile(file, std::nullopt);
  }
}

void DirectorySource::run() {
  std::set<std::string> pending;
  bool overflow = false;
  alignas(inotify_event) char buffer[64 * 1024];
  while (!stopping_) {
    pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    const bool waiting = !pending.empty() || overflow;
    const int timeout = waiting ? static_cast<int>(options_.settle.count()) : -1;
    const int ready = poll(fds, 2, timeout);
    if (ready < 0) {
      if (errno == EINTR) continue;
      logger()->error("poll: {}", errnoText(errno));
      return;
    }
    if (fds[1].revents & POLLIN) return;
    if (ready == 0) {
      // Quiet for the settle time: apply what accumulated.
      if (overflow) {
        rescan();
      } else {
        applyChanges(pending);
      }
      pending.clear();
      overflow = false;
      publish();
      continue;
    }
    const ssize_t n = read(inotify_fd_, buffer, sizeof(buffer));
    if (n <= 0) continue;
    for (ssize_t offset = 0; offset < n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer + offset);
      offset += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      if (event->mask & IN_Q_OVERFLOW) {
        overflow = true;
        continue;
      }
      auto dir = watches_.find(event->wd);
      if (dir == watches_.end()) continue;
      if (event->mask & (IN_DELETE_SELF | IN_IGNORED)) {
        if (dir->second == options_.root)
          logger()->warn("config directory {} was removed", dir->second);
        watches_.erase(dir);
        continue;
      }
      if (event->len == 0) continue;
      pending.insert((fs::path(dir->second) / event->name).string());
      if ((event->mask & IN_ISDIR) && (event->mask & (IN_DELETE | IN_MOVED_FROM))) overflow = true;
    }
  }
}

}  // namespace ambit::control::source
