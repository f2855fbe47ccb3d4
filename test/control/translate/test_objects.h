// Test helpers: objects loaded from inline YAML, and protobuf messages from text format.
#pragma once

#include <string>
#include <vector>

#include <google/protobuf/text_format.h>
#include <catch2/catch.hpp>

#include "core/config/loader.h"

namespace ambit::control::translate::testing {

// Loads YAML documents; the test fails on any loading error.
inline std::vector<config::Object> load(const std::string& yaml) {
  config::LoadResult result;
  config::Loader().loadText(yaml, "test.yaml", result);
  for (const config::Diagnostic& d : result.diagnostics) {
    INFO(d.format());
    CHECK(d.severity != config::Severity::kError);
  }
  return std::move(result.objects);
}

template <class T>
T parseText(const std::string& text) {
  T out;
  REQUIRE(google::protobuf::TextFormat::ParseFromString(text, &out));
  return out;
}

inline std::string textOf(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::TextFormat::PrintToString(message, &out);
  return out;
}

}  // namespace ambit::control::translate::testing
