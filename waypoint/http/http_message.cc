#include "waypoint/http/http_message.h"

#include <algorithm>

namespace ambit::waypoint {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

std::optional<std::string_view> HttpHeaders::get(std::string_view name) const {
  for (const HttpHeader& field : fields) {
    if (equalsIgnoreCase(field.name, name)) return field.value;
  }
  return std::nullopt;
}

std::vector<std::string_view> HttpHeaders::getAll(std::string_view name) const {
  std::vector<std::string_view> values;
  for (const HttpHeader& field : fields) {
    if (equalsIgnoreCase(field.name, name)) values.push_back(field.value);
  }
  return values;
}

bool HttpHeaders::has(std::string_view name) const { return get(name).has_value(); }

std::size_t HttpHeaders::count(std::string_view name) const {
  return static_cast<std::size_t>(
      std::count_if(fields.begin(), fields.end(),
                    [&](const HttpHeader& f) { return equalsIgnoreCase(f.name, name); }));
}

void HttpHeaders::set(std::string_view name, std::string_view value) {
  auto first = std::find_if(fields.begin(), fields.end(),
                            [&](const HttpHeader& f) { return equalsIgnoreCase(f.name, name); });
  if (first == fields.end()) {
    add(name, value);
    return;
  }
  first->value = std::string(value);
  auto rest = std::remove_if(std::next(first), fields.end(),
                             [&](const HttpHeader& f) { return equalsIgnoreCase(f.name, name); });
  fields.erase(rest, fields.end());
}

void HttpHeaders::add(std::string_view name, std::string_view value) {
  fields.push_back(HttpHeader{std::string(name), std::string(value)});
}

std::size_t HttpHeaders::remove(std::string_view name) {
  auto rest = std::remove_if(fields.begin(), fields.end(),
                             [&](const HttpHeader& f) { return equalsIgnoreCase(f.name, name); });
  std::size_t removed = static_cast<std::size_t>(fields.end() - rest);
  fields.erase(rest, fields.end());
  return removed;
}

std::string_view HttpRequest::authority() const { return headers.get("host").value_or(""); }

}  // namespace ambit::waypoint
