#include "ctl/proxy/table.h"

#include <algorithm>

namespace ambit::ctl::proxy {
namespace {

constexpr size_t kGap = 3;

}  // namespace

void Table::add(std::vector<std::string> row) {
  row.resize(std::max(row.size(), header_.size()));
  for (std::string& cell : row) {
    if (cell.empty()) cell.push_back('-');
  }
  rows_.push_back(std::move(row));
}

void Table::print(std::ostream& out) const {
  std::vector<size_t> widths(header_.size(), 0);
  auto measure = [&widths](const std::vector<std::string>& line) {
    if (widths.size() < line.size()) widths.resize(line.size(), 0);
    for (size_t i = 0; i < line.size(); ++i) widths[i] = std::max(widths[i], line[i].size());
  };
  measure(header_);
  for (const auto& row : rows_) measure(row);
  auto printLine = [&](const std::vector<std::string>& line) {
    for (size_t i = 0; i < line.size(); ++i) {
      out << line[i];
      // No padding after the last cell: lines carry no trailing spaces.
      if (i + 1 < line.size()) out << std::string(widths[i] - line[i].size() + kGap, ' ');
    }
    out << "\n";
  };
  printLine(header_);
  for (const auto& row : rows_) printLine(row);
}

}  // namespace ambit::ctl::proxy
