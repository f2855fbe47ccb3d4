// A table as kubectl and istioctl print them: a header of upper-case names, then one line per row,
// columns left-aligned and three spaces apart, an empty cell shown as "-".
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

namespace ambit::ctl::proxy {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}

  // A row with fewer cells than the header is padded with empty ones.
  void add(std::vector<std::string> row);
  size_t rows() const { return rows_.size(); }
  void print(std::ostream& out) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace ambit::ctl::proxy
