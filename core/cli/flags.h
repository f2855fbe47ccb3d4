// Command lines of long options, "--name VALUE" or "--name=VALUE", for the daemons: each option
// writes into the caller's options struct; errors and --help follow one style.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ambit::cli {

class Flags {
 public:
  // `program` names the binary in errors; `usage` is printed by -h/--help.
  Flags(std::string program, std::string usage);

  void text(const std::string& name, std::string* out, bool required = false);
  // An option without a value that sets *out to true. With `waives_required`, giving it lifts
  // the required options (for a command-like option such as --uninstall-capture).
  void toggle(const std::string& name, bool* out, bool waives_required = false);
  // A whole number in [min, max], handed to `set`.
  void number(const std::string& name, long min, long max, std::function<void(long)> set);

  // Parses argv. Returns an exit code when the program should stop: 0 after --help, 2 after a
  // usage error (printed to stderr); nothing when it should go on.
  std::optional<int> parse(int argc, char** argv);

  // Prints "<program>: <message>" and the --help hint; returns 2.
  int usageError(const std::string& message) const;

 private:
  struct Number {
    long min;
    long max;
    std::function<void(long)> set;
  };
  const std::string program_;
  const std::string usage_;
  std::map<std::string, std::string*> texts_;
  std::vector<std::string> required_;
  std::map<std::string, Number> numbers_;
  std::map<std::string, std::pair<bool*, bool>> toggles_;  // out, waives_required
};

}  // namespace ambit::cli
