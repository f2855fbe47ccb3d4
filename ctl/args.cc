#include "ctl/args.h"

namespace ambit::ctl {

bool ArgReader::next() {
  if (started_) ++index_;
  started_ = true;
  if (index_ >= args_.size()) return false;
  const std::string& current = args_[index_];
  flag_ = current;
  inline_value_.reset();
  if (const size_t eq = current.find('='); current.rfind("--", 0) == 0 && eq != std::string::npos) {
    flag_ = current.substr(0, eq);
    inline_value_ = current.substr(eq + 1);
  }
  return true;
}

std::optional<std::string> ArgReader::value() {
  if (inline_value_) return inline_value_;
  if (index_ + 1 >= args_.size()) return std::nullopt;
  return args_[++index_];
}

}  // namespace ambit::ctl
