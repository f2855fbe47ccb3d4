#include "agent/admin/config_dump.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include <absl/strings/str_cat.h>

#include "core/json/json_writer.h"
#include "core/log.h"

namespace ambit::agent {
namespace {

namespace wl = istio::workload;
namespace sec = istio::security;

// An address as operators write it; a malformed one shows its length rather than raw bytes.
std::string addressText(const std::string& bytes) {
  char text[INET6_ADDRSTRLEN] = {};
  if (bytes.size() == 4 && inet_ntop(AF_INET, bytes.data(), text, sizeof(text)) != nullptr) {
    return text;
  }
  if (bytes.size() == 16 && inet_ntop(AF_INET6, bytes.data(), text, sizeof(text)) != nullptr) {
    return text;
  }
  return absl::StrCat("<", bytes.size(), " bytes>");
}

void writePorts(json::Writer& w, const google::protobuf::RepeatedPtrField<wl::Port>& ports) {
  w.beginArray();
  for (const wl::Port& port : ports) {
    w.beginObject();
    w.field("service_port", static_cast<int64_t>(port.service_port()));
    w.field("target_port", static_cast<int64_t>(port.target_port()));
    w.field("app_protocol", wl::AppProtocol_Name(port.app_protocol()));
    w.endObject();
  }
  w.endArray();
}

void writeWorkload(json::Writer& w, const wl::Workload& workload) {
  w.beginObject();
  w.field("uid", workload.uid());
  w.field("name", workload.name());
  w.field("namespace", workload.namespace_());
  w.field("workload_name", workload.workload_name());
  w.key("addresses").beginArray();
  for (const std::string& address : workload.addresses()) w.value(addressText(address));
  w.endArray();
  w.field("service_account", workload.service_account());
  w.field("trust_domain", workload.trust_domain());
  w.field("node", workload.node());
  w.field("tunnel_protocol", wl::TunnelProtocol_Name(workload.tunnel_protocol()));
  w.field("status", wl::WorkloadStatus_Name(workload.status()));
  // The proto map has no order of its own.
  std::vector<std::pair<std::string, const wl::PortList*>> services;
  for (const auto& [key, ports] : workload.services()) services.emplace_back(key, &ports);
  std::sort(services.begin(), services.end());
  w.key("services").beginArray();
  for (const auto& [key, ports] : services) {
    w.beginObject();
    w.field("service", key);
    w.key("ports");
    writePorts(w, ports->ports());
    w.endObject();
  }
  w.endArray();
  w.key("authorization_policies").beginArray();
  for (const std::string& policy : workload.authorization_policies()) w.value(policy);
  w.endArray();
  w.endObject();
}

void writeService(json::Writer& w, const wl::Service& service) {
  w.beginObject();
  w.field("hostname", service.hostname());
  w.field("name", service.name());
  w.field("namespace", service.namespace_());
  w.key("vips").beginArray();
  for (const wl::NetworkAddress& vip : service.addresses()) {
    w.value(vip.network().empty() ? addressText(vip.address())
                                  : absl::StrCat(vip.network(), "/", addressText(vip.address())));
  }
  w.endArray();
  w.key("ports");
  writePorts(w, service.ports());
  w.endObject();
}

void writePolicy(json::Writer& w, const sec::Authorization& policy) {
  w.beginObject();
  w.field("name", policy.name());
  w.field("namespace", policy.namespace_());
  w.field("scope", sec::Scope_Name(policy.scope()));
  w.field("action", sec::Action_Name(policy.action()));
  w.field("groups", static_cast<int64_t>(policy.groups_size()));
  w.field("dry_run", policy.dry_run());
  w.endObject();
}

http::Response listing() {
  std::string body = "active loggers:\n";
  for (const auto& [name, level] : log::levels())
    absl::StrAppend(&body, "  ", name, ": ", level, "\n");
  return {200, "text/plain; charset=utf-8", body};
}

http::Response badRequest(const std::string& why) {
  return {400, "text/plain; charset=utf-8", why + "\n"};
}

}  // namespace

std::string configDumpJson(const Snapshot& snapshot, const std::string& certificates_json) {
  json::Writer w;
  w.beginObject();
  w.field("version", static_cast<uint64_t>(snapshot.version()));
  w.key("workloads").beginArray();
  for (const auto& [uid, workload] : snapshot.workloads()) writeWorkload(w, *workload);
  w.endArray();
  w.key("services").beginArray();
  for (const auto& [key, service] : snapshot.services()) writeService(w, *service);
  w.endArray();
  w.key("policies").beginArray();
  for (const auto& [name, policy] : snapshot.policies()) writePolicy(w, *policy);
  w.endArray();
  w.key("certificates");
  // The writer has no raw values: its text so far ends right after the key, and the section is
  // already JSON.
  return w.str() + (certificates_json.empty() ? std::string("null") : certificates_json) + "}";
}

http::Response loggingEndpoint(const http::Request& request) {
  if (request.query.empty() || request.method == "HEAD") return listing();
  // Everything is checked before anything changes, so a 400 leaves the levels as they were.
  std::optional<spdlog::level::level_enum> all;
  std::vector<std::pair<std::string, spdlog::level::level_enum>> each;
  const std::vector<std::pair<std::string, std::string>> known = log::levels();
  size_t start = 0;
  while (start <= request.query.size()) {
    size_t end = request.query.find('&', start);
    if (end == std::string::npos) end = request.query.size();
    const std::string pair = request.query.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == pair.size()) {
      return badRequest(absl::StrCat("\"", pair, "\": expected level=<level> or <logger>=<level>"));
    }
    const std::string name = pair.substr(0, eq);
    absl::StatusOr<spdlog::level::level_enum> level = log::parseLevel(pair.substr(eq + 1));
    if (!level.ok()) return badRequest(std::string(level.status().message()));
    if (name == "level") {
      all = *level;
      continue;
    }
    const bool exists = std::any_of(known.begin(), known.end(),
                                    [&name](const auto& logger) { return logger.first == name; });
    if (!exists) {
      std::string names;
      for (const auto& [logger, unused] : known)
        absl::StrAppend(&names, names.empty() ? "" : ", ", logger);
      return badRequest(absl::StrCat("no logger \"", name, "\" (loggers: ", names, ")"));
    }
    each.emplace_back(name, *level);
  }
  if (all.has_value()) {
    const auto text = spdlog::level::to_string_view(*all);
    if (absl::Status set = log::setLevel(std::string_view(text.data(), text.size())); !set.ok()) {
      return badRequest(std::string(set.message()));
    }
  }
  for (const auto& [name, level] : each) {
    const auto text = spdlog::level::to_string_view(level);
    if (absl::Status set = log::setLevel(name, std::string_view(text.data(), text.size()));
        !set.ok()) {
      return badRequest(std::string(set.message()));
    }
  }
  return listing();
}

}  // namespace ambit::agent
