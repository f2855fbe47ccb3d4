#include "core/config/loader.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include <absl/strings/str_cat.h>
#include <absl/strings/str_format.h>
#include <absl/strings/str_join.h>
#include <google/protobuf/message.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include "core/config/codes.h"

namespace ambit::config {
namespace {

namespace fs = std::filesystem;

// Returns the offset of the first byte that is not valid UTF-8 (or is NUL), or npos.
size_t firstInvalidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == 0) return i;
    size_t extra = 0;
    if (c < 0x80) {
      extra = 0;
    } else if ((c & 0xE0) == 0xC0 && c >= 0xC2) {
      extra = 1;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
    } else if ((c & 0xF8) == 0xF0 && c <= 0xF4) {
      extra = 3;
    } else {
      return i;
    }
    if (i + extra >= text.size()) return i;  // truncated sequence
    for (size_t k = 1; k <= extra; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return i;
    }
    i += extra + 1;
  }
  return std::string_view::npos;
}

int lineAt(std::string_view text, size_t offset) {
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + offset, '\n'));
}

bool isYamlFile(const fs::path& path) {
  const std::string ext = path.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

Diagnostic fileDiagnostic(const char* code, const std::string& file, int line, std::string message,
                          Severity severity = Severity::kError) {
  Diagnostic d;
  d.code = code;
  d.severity = severity;
  d.origin = Origin{file, line};
  d.message = std::move(message);
  return d;
}

// The value under `key` of a mapping, or a null node; never yaml-cpp's throwing "zombie" node.
YAML::Node child(const YAML::Node& node, const char* key) {
  if (node.IsMap()) {
    for (const auto& entry : node) {
      if (entry.first.IsScalar() && entry.first.Scalar() == key) return entry.second;
    }
  }
  return YAML::Node(YAML::NodeType::Null);
}

std::string scalarOrEmpty(const YAML::Node& node, const char* key) {
  const YAML::Node value = child(node, key);
  return value.IsScalar() ? value.Scalar() : "";
}

}  // namespace

std::vector<DocumentText> splitDocuments(std::string_view text) {
  std::vector<DocumentText> docs;
  size_t start = 0;
  int start_line = 1;
  int line = 1;
  bool ended = false;  // after a `...` end marker, text up to the next `---` is not a document
  size_t pos = 0;
  auto flush = [&](size_t end) {
    if (!ended && end > start) docs.push_back({text.substr(start, end - start), start_line});
  };
  while (pos <= text.size()) {
    const size_t eol = std::min(text.find('\n', pos), text.size());
    const std::string_view current = text.substr(pos, eol - pos);
    const auto isMarker = [&](std::string_view marker) {
      return current.substr(0, 3) == marker &&
             (current.size() == 3 || current[3] == ' ' || current[3] == '\t' || current[3] == '\r');
    };
    if (isMarker("---")) {
      flush(pos);
      ended = false;
      // Content after the marker on the same line belongs to the new document; the marker
      // itself is blanked by starting the document three columns in.
      start = pos + 3;
      start_line = line;
    } else if (isMarker("...")) {
      flush(pos);
      ended = true;
    }
    if (eol == text.size()) break;
    pos = eol + 1;
    ++line;
  }
  flush(text.size());
  return docs;
}

void Loader::loadPath(const std::string& path, LoadResult& out) const {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    out.diagnostics.push_back(
        fileDiagnostic(codes::kFileError, path, 0, "no such file or directory"));
    return;
  }
  if (!fs::is_directory(status)) {
    loadFile(path, out);
    return;
  }
  std::vector<std::string> files;
  for (auto it = fs::recursive_directory_iterator(
           path, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && isYamlFile(it->path())) files.push_back(it->path().string());
  }
  if (ec) {
    out.diagnostics.push_back(fileDiagnostic(
        codes::kFileError, path, 0, absl::StrCat("cannot list directory: ", ec.message())));
  }
  std::sort(files.begin(), files.end());
  for (const std::string& file : files) loadFile(file, out);
}

void Loader::loadFile(const std::string& path, LoadResult& out) const {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) {
    out.diagnostics.push_back(fileDiagnostic(codes::kFileError, path, 0, ec.message()));
    return;
  }
  if (size > limits_.max_file_bytes) {
    out.diagnostics.push_back(fileDiagnostic(
        codes::kFileError, path, 0,
        absl::StrCat("file is ", size, " bytes; the limit is ", limits_.max_file_bytes,
                     " bytes (split it into smaller files)")));
    return;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    out.diagnostics.push_back(fileDiagnostic(codes::kFileError, path, 0, "cannot open file"));
    return;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  loadText(buffer.str(), path, out);
}

void Loader::loadText(std::string_view text, const std::string& file, LoadResult& out) const {
  if (text.size() > limits_.max_file_bytes) {
    out.diagnostics.push_back(
        fileDiagnostic(codes::kFileError, file, 0,
                       absl::StrCat("input is ", text.size(), " bytes; the limit is ",
                                    limits_.max_file_bytes, " bytes")));
    return;
  }
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 byte order mark
  if (const size_t bad = firstInvalidUtf8(text); bad != std::string_view::npos) {
    out.diagnostics.push_back(fileDiagnostic(
        codes::kFileError, file, lineAt(text, bad),
        absl::StrCat("not UTF-8 text: byte 0x",
                     absl::Hex(static_cast<unsigned char>(text[bad]), absl::kZeroPad2),
                     " at offset ", bad)));
    return;
  }
  for (const DocumentText& doc : splitDocuments(text)) {
    loadDocument(doc.text, file, doc.first_line, out);
  }
}

void Loader::loadDocument(std::string_view text, const std::string& file, int first_line,
                          LoadResult& out) const {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::DeepRecursion& e) {
    out.diagnostics.push_back(
        fileDiagnostic(codes::kLimit, file, first_line + std::max(0, e.mark.line),
                       absl::StrCat("nesting deeper than ", e.depth(), " levels")));
    return;
  } catch (const YAML::Exception& e) {
    out.diagnostics.push_back(fileDiagnostic(codes::kYamlSyntax, file,
                                             first_line + std::max(0, e.mark.line),
                                             absl::StrCat("YAML syntax error: ", e.msg)));
    return;
  }
  if (root.IsNull()) return;  // empty document, comments only
  if (!root.IsMap()) {
    out.diagnostics.push_back(
        fileDiagnostic(codes::kBadDocument, file, first_line,
                       "document is not an object (expected apiVersion, kind, metadata and spec)"));
    return;
  }
  const std::string apiVersion = scalarOrEmpty(root, "apiVersion");
  const std::string kindName = scalarOrEmpty(root, "kind");
  if (apiVersion.empty() || kindName.empty()) {
    out.diagnostics.push_back(
        fileDiagnostic(codes::kBadDocument, file, first_line,
                       apiVersion.empty() ? "missing apiVersion" : "missing kind"));
    return;
  }
  const GroupVersion gv = splitApiVersion(apiVersion);
  const KindInfo* kind = findKind(gv.group, kindName);
  ObjectRef ref{kindName, "", scalarOrEmpty(child(root, "metadata"), "name")};
  auto report = [&](const char* code, Severity severity, int line, std::string field,
                    std::string message) {
    Diagnostic d = fileDiagnostic(code, file, line, std::move(message), severity);
    d.object = ref;
    d.field = std::move(field);
    out.diagnostics.push_back(std::move(d));
  };
  if (kind == nullptr) {
    if (isIstioGroup(gv.group)) {
      report(codes::kUnsupportedKind, Severity::kWarning, first_line, "",
             absl::StrCat(apiVersion, " ", kindName, " is not supported by Ambit; it is ignored"));
    }
    return;  // other Kubernetes kinds are not read by the mesh
  }
  if (std::find(kind->versions.begin(), kind->versions.end(), gv.version) == kind->versions.end()) {
    report(codes::kUnknownVersion, Severity::kError, first_line, "apiVersion",
           absl::StrCat(apiVersion, " is not a served version of ", kindName, "; use ",
                        gv.group.empty() ? "" : absl::StrCat(gv.group, "/"),
                        absl::StrJoin(kind->versions, " or ")));
    return;
  }

  Object object;
  object.kind = kind;
  object.api_version = apiVersion;
  object.origin = Origin{file, first_line};
  ref.kind = kind->displayName();

  std::vector<DecodeError> errors;
  DecodeOptions options;
  options.max_nodes = limits_.max_nodes_per_document;
  options.max_depth = limits_.max_depth;
  options.line_offset = first_line - 1;
  options.ignore_unknown_fields = true;  // metadata and Kubernetes objects
  YamlDecoder lenient(options, &object.lines, &errors);
  lenient.decode(child(root, "metadata"), object.meta, "metadata");

  google::protobuf::Message* body = google::protobuf::MessageFactory::generated_factory()
                                        ->GetPrototype(kind->descriptor())
                                        ->New();
  object.body.reset(body);
  if (kind->istio) {
    for (const auto& entry : root) {
      const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "";
      if (key != "apiVersion" && key != "kind" && key != "metadata" && key != "spec" &&
          key != "status") {
        errors.push_back({key, options.line_offset + entry.first.Mark().line + 1,
                          absl::StrCat("unknown field \"", key,
                                       "\"; expected apiVersion, kind, metadata, spec or status")});
      }
    }
    options.ignore_unknown_fields = false;
    YamlDecoder strict(options, &object.lines, &errors);
    strict.decode(child(root, "spec"), *body, "spec");
  } else if (!lenient.aborted()) {
    lenient.decode(root, *body, "");
  }

  if (object.meta.name().empty() && kind->kind != Kind::kIstioOperator) {
    errors.push_back({"metadata.name", first_line, "name is required"});
  }
  if (kind->namespaced && object.meta.namespace_().empty()) object.meta.set_namespace_("default");
  if (!kind->namespaced) object.meta.clear_namespace_();
  ref.namespace_ = object.meta.namespace_();

  if (!errors.empty()) {
    for (DecodeError& e : errors) {
      report(e.limit ? codes::kLimit : codes::kSchema, Severity::kError, e.line, std::move(e.path),
             std::move(e.message));
    }
    return;  // an invalid object is rejected whole
  }
  out.objects.push_back(std::move(object));
}

}  // namespace ambit::config
