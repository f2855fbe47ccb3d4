#include "core/cli/flags.h"

#include <cstdlib>
#include <iostream>

namespace ambit::cli {
namespace {

bool parseNumber(const std::string& text, long min, long max, long& out) {
  char* end = nullptr;
  out = std::strtol(text.c_str(), &end, 10);
  return !text.empty() && *end == '\0' && out >= min && out <= max;
}

}  // namespace

Flags::Flags(std::string program, std::string usage)
    : program_(std::move(program)), usage_(std::move(usage)) {}

void Flags::text(const std::string& name, std::string* out, bool required) {
  texts_[name] = out;
  if (required) required_.push_back(name);
}

void Flags::toggle(const std::string& name, bool* out, bool waives_required) {
  toggles_[name] = {out, waives_required};
}

void Flags::number(const std::string& name, long min, long max, std::function<void(long)> set) {
  numbers_[name] = Number{min, max, std::move(set)};
}

int Flags::usageError(const std::string& message) const {
  std::cerr << program_ << ": " << message << "\n(see '" << program_ << " --help')\n";
  return 2;
}

std::optional<int> Flags::parse(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  bool required_waived = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    std::string value;
    bool inline_value = false;
    if (const size_t eq = flag.find('='); flag.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
      inline_value = true;
    }
    if (flag == "-h" || flag == "--help") {
      std::cout << usage_;
      return 0;
    }
    if (const auto toggle = toggles_.find(flag); toggle != toggles_.end()) {
      if (inline_value) return usageError(flag + " takes no value");
      *toggle->second.first = true;
      required_waived = required_waived || toggle->second.second;
      continue;
    }
    const auto text = texts_.find(flag);
    const auto number = numbers_.find(flag);
    if (text == texts_.end() && number == numbers_.end()) {
      return usageError("unknown option " + args[i]);
    }
    if (!inline_value) {
      if (i + 1 >= args.size()) return usageError(flag + " needs a value");
      value = args[++i];
    }
    if (text != texts_.end()) {
      *text->second = value;
      continue;
    }
    long parsed = 0;
    if (!parseNumber(value, number->second.min, number->second.max, parsed)) {
      return usageError(flag + " must be " + std::to_string(number->second.min) + ".." +
                        std::to_string(number->second.max));
    }
    number->second.set(parsed);
  }
  for (const std::string& name : required_) {
    if (required_waived) break;
    if (texts_[name]->empty()) return usageError(name + " is required");
  }
  return std::nullopt;
}

}  // namespace ambit::cli
