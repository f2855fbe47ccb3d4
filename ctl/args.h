// The arguments of one ambitctl command, read in order, as the commands accept them:
// "--name=value", "--name value" and "-n value".
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace ambit::ctl {

class ArgReader {
 public:
  explicit ArgReader(const std::vector<std::string>& args) : args_(args) {}

  // Moves to the next argument; false when none is left.
  bool next();
  // The argument as given.
  const std::string& arg() const { return args_[index_]; }
  // "--name" of "--name=value"; otherwise the argument as given.
  const std::string& flag() const { return flag_; }
  // The flag's value: what follows '=', else the next argument (which is then taken); nullopt
  // when there is none.
  std::optional<std::string> value();

 private:
  const std::vector<std::string>& args_;
  size_t index_ = 0;
  bool started_ = false;
  std::string flag_;
  std::optional<std::string> inline_value_;
};

}  // namespace ambit::ctl
