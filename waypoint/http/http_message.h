// HTTP messages as the waypoint handles them: whole (bodies are buffered), with header fields kept
// in the order and spelling received. Names compare without regard to case, as HTTP defines.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ambit::waypoint {

// ASCII case-insensitive equality, for field names and tokens.
bool equalsIgnoreCase(std::string_view a, std::string_view b);

struct HttpHeader {
  std::string name;  // as received
  std::string value;
};

// An ordered list of header fields. A name may repeat; the helpers match names in any case.
struct HttpHeaders {
  std::vector<HttpHeader> fields;

  // The value of the first field named `name`, or nullopt.
  std::optional<std::string_view> get(std::string_view name) const;
  // The values of every field named `name`, in order.
  std::vector<std::string_view> getAll(std::string_view name) const;
  bool has(std::string_view name) const;
  std::size_t count(std::string_view name) const;

  // Leaves exactly one field named `name`, with this value: the first such field keeps its place
  // (and spelling), the others go; a new field is appended when there was none.
  void set(std::string_view name, std::string_view value);
  // Appends a field, even when one with this name exists.
  void add(std::string_view name, std::string_view value);
  // Removes every field named `name` and returns how many there were.
  std::size_t remove(std::string_view name);

  bool empty() const { return fields.empty(); }
  std::size_t size() const { return fields.size(); }
  auto begin() const { return fields.begin(); }
  auto end() const { return fields.end(); }
};

struct HttpRequest {
  std::string method;  // case-sensitive, as received ("GET")
  // Origin-form: the path and query ("/a/b?c=d"); "*" for a server-wide OPTIONS. The decoder
  // rewrites an absolute-form target to this form (see Http1RequestDecoder).
  std::string target = "/";
  int version = 11;  // 10 for HTTP/1.0, 11 for HTTP/1.1
  HttpHeaders headers;
  std::string body;

  // The Host header's value ("reviews.default.svc:9080"), or empty when there is none (only an
  // HTTP/1.0 request may lack it).
  std::string_view authority() const;
};

struct HttpResponse {
  int status = 200;
  std::string reason;  // as received; when empty, the encoder writes the standard phrase
  int version = 11;
  HttpHeaders headers;
  std::string body;
};

}  // namespace ambit::waypoint
