// A small streaming JSON writer for debug endpoints and CLI output: keys keep the order they are
// written in, so output is byte-stable for golden tests.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace ambit::json {

// A JSON string literal; control characters are escaped, UTF-8 passes through.
inline std::string quote(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof(buffer), "\\u%04x", c);
          out += buffer;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// Builds a document with begin/end calls; commas are placed automatically.
class Writer {
 public:
  Writer& beginObject() { return open('{'); }
  Writer& endObject() { return close('}'); }
  Writer& beginArray() { return open('['); }
  Writer& endArray() { return close(']'); }
  Writer& key(const std::string& k) {
    separate();
    out_ += quote(k) + ": ";
    after_key_ = true;
    return *this;
  }
  Writer& value(const std::string& v) { return raw(quote(v)); }
  Writer& value(const char* v) { return raw(quote(v)); }
  Writer& value(bool v) { return raw(v ? "true" : "false"); }
  Writer& value(int64_t v) { return raw(std::to_string(v)); }
  Writer& value(uint64_t v) { return raw(std::to_string(v)); }
  Writer& value(int v) { return raw(std::to_string(v)); }
  Writer& value(double v) {
    char buffer[32];
    std::snprintf(buffer, sizeof(buffer), "%.6g", v);
    return raw(buffer);
  }
  template <class T>
  Writer& field(const std::string& k, const T& v) {
    return key(k).value(v);
  }
  const std::string& str() const { return out_; }

 private:
  Writer& raw(const std::string& text) {
    separate();
    out_ += text;
    return *this;
  }
  Writer& open(char c) {
    separate();
    out_ += c;
    first_.push_back(true);
    return *this;
  }
  Writer& close(char c) {
    first_.pop_back();
    out_ += c;
    return *this;
  }
  void separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_.empty()) {
      if (!first_.back()) out_ += ", ";
      first_.back() = false;
    }
  }

  std::string out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

}  // namespace ambit::json
