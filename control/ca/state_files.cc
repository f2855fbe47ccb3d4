#include "control/ca/state_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

#include <utility>

#include <absl/strings/str_format.h>

namespace ambit::control::ca {
namespace {

absl::Status errnoError(const std::string& what, const std::filesystem::path& path) {
  return absl::InternalError(absl::StrCat(what, " ", path.string(), ": ", std::strerror(errno)));
}

// Closes a descriptor on every path out of writeFileAtomic.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

}  // namespace

absl::Status writeFileAtomic(const std::filesystem::path& path, const std::string& content,
                             mode_t mode) {
  const std::filesystem::path dir = path.parent_path().empty() ? "." : path.parent_path();
  std::string tmpl = (dir / ("." + path.filename().string() + ".XXXXXX")).string();
  // mkstemp creates the file 0600, so a key is never visible to others, not even briefly.
  Fd fd(::mkstemp(tmpl.data()));
  if (fd.get() < 0) return errnoError("create temporary file for", path);
  const std::filesystem::path tmp = tmpl;
  auto fail = [&](const std::string& what) {
    absl::Status status = errnoError(what, tmp);
    ::unlink(tmp.c_str());
    return status;
  };
  if (::fchmod(fd.get(), mode) != 0) return fail("chmod");
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("write");
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return fail("fsync");
  if (::close(fd.release()) != 0) return fail("close");
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail("rename to " + path.string() + ":");
  // The rename is durable only once the directory entry is.
  Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() < 0 || ::fsync(dir_fd.get()) != 0) return errnoError("fsync directory", dir);
  return absl::OkStatus();
}

absl::Status checkOwnerOnly(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errnoError("stat", path);
  const mode_t perms = st.st_mode & 0777;
  if ((perms & 077) != 0) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s has mode %04o: a private key must not be accessible by group or others "
                        "(chmod 600 it)",
                        path.string(), perms));
  }
  return absl::OkStatus();
}

}  // namespace ambit::control::ca
