// Decodes a YAML node into a typed protobuf message following the protobuf JSON mapping
// (lowerCamel or original field names, enums by name, well-known types as JSON writes them),
// with Go-style durations as Istio accepts them. Every error names the field path and line.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include <google/protobuf/message.h>
#include <yaml-cpp/yaml.h>

namespace ambit::config {

// Where each decoded field came from: "spec.http[0].route[1].weight" -> 1-based line.
using FieldLines = std::map<std::string, int, std::less<>>;

struct DecodeError {
  std::string path;
  int line = 0;
  std::string message;
  bool limit = false;  // a bound of DecodeOptions was exceeded
};

struct DecodeOptions {
  // Kubernetes objects are read leniently (the API server validated them); Istio config strictly.
  bool ignore_unknown_fields = false;
  // Bounds that keep hostile input cheap: nodes visited (aliases are expanded as visited) and
  // depth.
  size_t max_nodes = 200000;
  int max_depth = 100;
  // Added to yaml-cpp's 0-based line marks: the document's first line in its file, minus one.
  int line_offset = 0;
  // Stop after this many errors in one document.
  size_t max_errors = 20;
};

class YamlDecoder {
 public:
  YamlDecoder(const DecodeOptions& options, FieldLines* lines, std::vector<DecodeError>* errors);

  // Decodes `node` (whose path is `path`, e.g. "spec") into `message`; false on any error.
  bool decode(const YAML::Node& node, google::protobuf::Message& message, const std::string& path);

  // True when decoding stopped because a bound was exceeded.
  bool aborted() const { return aborted_; }

 private:
  void decodeMessage(const YAML::Node& node, google::protobuf::Message& message,
                     const std::string& path, int depth);
  void decodeField(const YAML::Node& node, google::protobuf::Message& message,
                   const google::protobuf::FieldDescriptor* field, const std::string& path,
                   int depth);
  void decodeMapEntry(const YAML::Node& key, const YAML::Node& value,
                      google::protobuf::Message& message,
                      const google::protobuf::FieldDescriptor* field, const std::string& path,
                      int depth);
  void decodeSingular(const YAML::Node& node, google::protobuf::Message& message,
                      const google::protobuf::FieldDescriptor* field, const std::string& path,
                      int depth);
  bool decodeWellKnown(const YAML::Node& node, google::protobuf::Message& message,
                       const std::string& path, int depth);
  void decodeValue(const YAML::Node& node, google::protobuf::Message& value,
                   const std::string& path, int depth);
  // Counts the node against the bounds; records its line unless it is inside a free-form value.
  bool enter(const YAML::Node& node, const std::string& path, int depth, bool record = true);
  void fail(const YAML::Node& node, const std::string& path, std::string message,
            bool limit = false);
  int lineOf(const YAML::Node& node) const;

  DecodeOptions options_;
  FieldLines* lines_;
  std::vector<DecodeError>* errors_;
  size_t nodes_ = 0;
  bool aborted_ = false;
};

}  // namespace ambit::config
