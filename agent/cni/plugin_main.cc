// ambit-cni: a chained CNI plugin (CNI spec 1.0). On ADD it records the pod in the pod record
// directory and hands the pod, with its network namespace fd, to the node agent; on DEL it removes
// the record and tells the agent. It never changes the pod's network and never fails a pod
// because the agent is down: the record lets the agent enroll the pod when it comes back.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <absl/strings/str_split.h>
#include <absl/strings/string_view.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "agent/cni/files.h"
#include "agent/cni/pod_records.h"
#include "agent/cni/protocol.h"
#include "core/json/json_writer.h"
#include "core/log.h"
#include "core/unique_fd.h"

namespace ambit::agent::cni {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

constexpr char kPluginVersion[] = "1.0.0";
const std::vector<std::string>& supportedVersions() {
  static const std::vector<std::string> versions = {"0.3.0", "0.3.1", "0.4.0", "1.0.0"};
  return versions;
}
constexpr absl::Duration kAgentTimeout = absl::Seconds(5);

// CNI spec error codes.
enum ErrorCode {
  kIncompatibleVersion = 1,
  kUnsupportedField = 2,
  kContainerUnknown = 3,
  kInvalidEnvironment = 4,
  kIoFailure = 5,
  kDecodeFailure = 6,
  kInvalidNetworkConfig = 7,
};

struct CniError {
  int code;
  std::string msg;
  std::string details;
};

struct NetConf {
  std::string cni_version;
  std::string name;
  std::string agent_socket = kDefaultAgentSocket;
  std::string pod_dir = kDefaultPodDir;
  std::optional<Struct> prev_result;
};

struct Environment {
  std::string command;
  std::string container_id;
  std::string netns;
  std::string ifname;
  std::string pod_namespace;
  std::string pod_name;
  std::string pod_uid;
};

std::shared_ptr<spdlog::logger> logger() { return ambit::log::get("ambit-cni"); }

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

std::string readStdin() {
  std::string input;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    input.append(buffer, static_cast<std::size_t>(n));
  }
  return input;
}

std::string toJson(const google::protobuf::Message& message) {
  std::string out;
  const auto status = google::protobuf::util::MessageToJsonString(message, &out);
  if (!status.ok()) return "{}";
  return out;
}

// Prints the spec's error object and returns the exit code for it.
int fail(const std::string& cni_version, const CniError& error) {
  logger()->error("{} (code {}){}{}", error.msg, error.code, error.details.empty() ? "" : ": ",
                  error.details);
  std::string out = "{\"cniVersion\":" + json::quote(cni_version) +
                    ",\"code\":" + std::to_string(error.code) +
                    ",\"msg\":" + json::quote(error.msg);
  if (!error.details.empty()) out += ",\"details\":" + json::quote(error.details);
  out += "}";
  std::cout << out << std::endl;
  return 1;
}

// K8S_POD_NAMESPACE=..;K8S_POD_NAME=..;K8S_POD_UID=..; unknown keys are ignored.
void parseCniArgs(const std::string& args, Environment& out) {
  for (absl::string_view pair : absl::StrSplit(args, ';', absl::SkipEmpty())) {
    const auto eq = pair.find('=');
    if (eq == absl::string_view::npos) continue;
    const absl::string_view key = pair.substr(0, eq);
    const std::string value(pair.substr(eq + 1));
    if (key == "K8S_POD_NAMESPACE") {
      out.pod_namespace = value;
    } else if (key == "K8S_POD_NAME") {
      out.pod_name = value;
    } else if (key == "K8S_POD_UID") {
      out.pod_uid = value;
    }
  }
}

const Value* field(const Struct& object, const std::string& key) {
  const auto it = object.fields().find(key);
  return it == object.fields().end() ? nullptr : &it->second;
}

// Reads an optional string key; an error when present with another type.
std::optional<CniError> optionalString(const Struct& object, const std::string& key,
                                       std::string& out) {
  const Value* value = field(object, key);
  if (value == nullptr || value->kind_case() == Value::kNullValue) return std::nullopt;
  if (value->kind_case() != Value::kStringValue) {
    return CniError{kInvalidNetworkConfig, "invalid network config",
                    absl::StrCat("\"", key, "\" must be a string")};
  }
  out = value->string_value();
  return std::nullopt;
}

std::optional<CniError> parseNetConf(const std::string& input, NetConf& conf) {
  Struct root;
  const auto parsed = google::protobuf::util::JsonStringToMessage(input, &root);
  if (!parsed.ok()) {
    return CniError{kDecodeFailure, "failed to decode the network config on stdin",
                    input.empty() ? std::string("stdin is empty") : parsed.ToString()};
  }
  if (auto error = optionalString(root, "cniVersion", conf.cni_version)) return error;
  if (conf.cni_version.empty()) {
    return CniError{kInvalidNetworkConfig, "invalid network config", "\"cniVersion\" is missing"};
  }
  bool supported = false;
  for (const auto& version : supportedVersions()) supported |= version == conf.cni_version;
  if (!supported) {
    return CniError{
        kIncompatibleVersion, "incompatible CNI version",
        absl::StrCat("ambit-cni supports 0.3.0, 0.3.1, 0.4.0 and 1.0.0, not ", conf.cni_version)};
  }
  if (auto error = optionalString(root, "name", conf.name)) return error;
  std::string type;
  if (auto error = optionalString(root, "type", type)) return error;
  if (conf.name.empty() || type.empty()) {
    return CniError{kInvalidNetworkConfig, "invalid network config",
                    "\"name\" and \"type\" are required"};
  }
  if (auto error = optionalString(root, "agentSocket", conf.agent_socket)) return error;
  if (auto error = optionalString(root, "podDir", conf.pod_dir)) return error;
  if (conf.agent_socket.empty() || conf.pod_dir.empty()) {
    return CniError{kInvalidNetworkConfig, "invalid network config",
                    "\"agentSocket\" and \"podDir\" must not be empty"};
  }
  std::string log_level;
  if (auto error = optionalString(root, "logLevel", log_level)) return error;
  if (!log_level.empty()) {
    const absl::Status set = ambit::log::setLevel(log_level);
    if (!set.ok()) {
      return CniError{kInvalidNetworkConfig, "invalid network config", std::string(set.message())};
    }
  }
  if (const Value* prev = field(root, "prevResult");
      prev != nullptr && prev->kind_case() != Value::kNullValue) {
    if (prev->kind_case() != Value::kStructValue) {
      return CniError{kInvalidNetworkConfig, "invalid network config",
                      "\"prevResult\" must be an object"};
    }
    conf.prev_result = prev->struct_value();
  }
  return std::nullopt;
}

// The pod's IPs from prevResult.ips[].address, without prefix length.
std::optional<CniError> podIps(const NetConf& conf, std::vector<std::string>& ips) {
  if (!conf.prev_result) return std::nullopt;
  const Value* list = field(*conf.prev_result, "ips");
  if (list == nullptr || list->kind_case() == Value::kNullValue) return std::nullopt;
  const CniError invalid{kInvalidNetworkConfig, "invalid network config",
                         "\"prevResult.ips\" must be a list of objects with a string \"address\""};
  if (list->kind_case() != Value::kListValue) return invalid;
  for (const Value& entry : list->list_value().values()) {
    if (entry.kind_case() != Value::kStructValue) return invalid;
    const Value* address = field(entry.struct_value(), "address");
    if (address == nullptr) continue;
    if (address->kind_case() != Value::kStringValue) return invalid;
    const std::string& cidr = address->string_value();
    const std::string ip = cidr.substr(0, cidr.find('/'));
    if (!ip.empty()) ips.push_back(ip);
  }
  return std::nullopt;
}

std::optional<CniError> requireEnv(const Environment& environment) {
  std::vector<std::string> missing;
  if (environment.container_id.empty()) missing.push_back("CNI_CONTAINERID");
  if (environment.ifname.empty()) missing.push_back("CNI_IFNAME");
  if (environment.command != "DEL" && environment.netns.empty()) missing.push_back("CNI_NETNS");
  if (missing.empty()) return std::nullopt;
  std::string names;
  for (const auto& name : missing) names += (names.empty() ? "" : ", ") + name;
  return CniError{kInvalidEnvironment, "required environment variables are missing",
                  absl::StrCat(environment.command, " needs ", names)};
}

std::string podKeyOf(const Environment& environment) {
  return podKey(environment.pod_uid, environment.pod_namespace, environment.pod_name,
                environment.container_id);
}

int cmdAdd(const Environment& environment, const NetConf& conf) {
  ambit::cni::v1::PodInfo pod;
  pod.set_uid(podKeyOf(environment));
  pod.set_namespace_(environment.pod_namespace);
  pod.set_name(environment.pod_name);
  pod.set_netns_path(environment.netns);
  pod.set_container_id(environment.container_id);
  std::vector<std::string> ips;
  if (auto error = podIps(conf, ips)) return fail(conf.cni_version, *error);
  for (const auto& ip : ips) pod.add_ips(ip);

  UniqueFd netns(::open(environment.netns.c_str(), O_RDONLY | O_CLOEXEC));
  if (!netns) {
    const int err = errno;
    return fail(conf.cni_version, CniError{err == ENOENT ? kContainerUnknown : kIoFailure,
                                           "cannot open the pod's network namespace",
                                           absl::StrCat(environment.netns, ": ", errnoText(err))});
  }

  const PodRecords records(conf.pod_dir);
  const absl::Status written = records.write(pod);
  if (!written.ok()) {
    logger()->error("pod {}/{}: cannot write its record: {}", pod.namespace_(), pod.name(),
                    std::string(written.message()));
  }

  ambit::cni::v1::AgentRequest request;
  *request.mutable_add()->mutable_pod() = pod;
  const auto reply = callAgent(conf.agent_socket, request, netns.get(), kAgentTimeout);
  if (!reply.ok()) {
    if (!written.ok()) {
      // Neither the agent nor a record knows the pod: nothing would ever enroll it.
      return fail(conf.cni_version,
                  CniError{kIoFailure, "cannot record the pod and the agent is unreachable",
                           absl::StrCat(written.message(), "; ", reply.status().message())});
    }
    logger()->warn("pod {}/{}: agent not reached ({}); it enrolls the pod from its record",
                   pod.namespace_(), pod.name(), std::string(reply.status().message()));
  } else if (!reply->ok()) {
    logger()->warn("pod {}/{}: agent refused the pod ({}); it retries from the record",
                   pod.namespace_(), pod.name(), reply->error());
  } else {
    logger()->debug("pod {}/{} handed to the agent", pod.namespace_(), pod.name());
  }

  Struct result;
  if (conf.prev_result) {
    result = *conf.prev_result;
  } else {
    (*result.mutable_fields())["interfaces"].mutable_list_value();
    (*result.mutable_fields())["ips"].mutable_list_value();
  }
  (*result.mutable_fields())["cniVersion"].set_string_value(conf.cni_version);
  std::cout << toJson(result) << std::endl;
  return 0;
}

int cmdDel(const Environment& environment, const NetConf& conf) {
  const std::string key = podKeyOf(environment);
  const PodRecords records(conf.pod_dir);
  // A DEL repeated for an old sandbox of the pod (the runtime retries and garbage-collects DELs)
  // must not undo the ADD of the pod's current sandbox.
  if (const auto current = records.read(key);
      current.ok() && current->container_id() != environment.container_id) {
    logger()->info("pod {}/{}: DEL of container {}, but the pod now runs in {}; nothing to do",
                   environment.pod_namespace, environment.pod_name, environment.container_id,
                   current->container_id());
    return 0;
  }
  const absl::Status removed = records.remove(key);
  if (!removed.ok()) logger()->warn("{}", std::string(removed.message()));

  ambit::cni::v1::AgentRequest request;
  auto* del = request.mutable_del();
  del->set_uid(key);
  del->set_namespace_(environment.pod_namespace);
  del->set_name(environment.pod_name);
  del->set_container_id(environment.container_id);
  const auto reply = callAgent(conf.agent_socket, request, -1, kAgentTimeout);
  if (!reply.ok()) {
    logger()->info("pod {}/{}: agent not told of the delete: {}", environment.pod_namespace,
                   environment.pod_name, std::string(reply.status().message()));
  } else if (!reply->ok()) {
    logger()->warn("pod {}/{}: agent failed the delete: {}", environment.pod_namespace,
                   environment.pod_name, reply->error());
  }
  return 0;
}

int cmdCheck(const Environment& environment, const NetConf& conf) {
  if (conf.cni_version.rfind("0.3.", 0) == 0) {
    return fail(
        conf.cni_version,
        CniError{kIncompatibleVersion, "CHECK needs cniVersion 0.4.0 or later", conf.cni_version});
  }
  const PodRecords records(conf.pod_dir);
  const std::string key = podKeyOf(environment);
  const auto pod = records.read(key);
  if (!pod.ok()) {
    const bool missing = absl::IsNotFound(pod.status());
    return fail(conf.cni_version, CniError{missing ? kContainerUnknown : kIoFailure,
                                           missing ? "ambit-cni has no record of this pod"
                                                   : "ambit-cni cannot read the pod's record",
                                           std::string(pod.status().message())});
  }
  if (pod->container_id() != environment.container_id) {
    return fail(conf.cni_version,
                CniError{kContainerUnknown, "the pod's record is of another container",
                         absl::StrCat("record has ", pod->container_id(), ", CNI_CONTAINERID is ",
                                      environment.container_id)});
  }
  return 0;
}

int run() {
  Environment environment;
  environment.command = env("CNI_COMMAND");
  environment.container_id = env("CNI_CONTAINERID");
  environment.netns = env("CNI_NETNS");
  environment.ifname = env("CNI_IFNAME");
  parseCniArgs(env("CNI_ARGS"), environment);
  // Read stdin whatever the command, so the runtime's write never meets a closed pipe.
  const std::string input = readStdin();

  if (environment.command == "VERSION") {
    std::string out =
        absl::StrCat("{\"cniVersion\":\"", kPluginVersion, "\",\"supportedVersions\":[");
    for (std::size_t i = 0; i < supportedVersions().size(); ++i) {
      out += absl::StrCat(i == 0 ? "" : ",", "\"", supportedVersions()[i], "\"");
    }
    std::cout << out << "]}" << std::endl;
    return 0;
  }
  if (environment.command.empty()) {
    return fail(kPluginVersion, CniError{kInvalidEnvironment, "CNI_COMMAND is not set", ""});
  }
  if (environment.command != "ADD" && environment.command != "DEL" &&
      environment.command != "CHECK" && environment.command != "STATUS" &&
      environment.command != "GC") {
    return fail(kPluginVersion,
                CniError{kInvalidEnvironment, "unknown CNI_COMMAND", environment.command});
  }

  NetConf conf;
  if (auto error = parseNetConf(input, conf)) {
    return fail(conf.cni_version.empty() ? kPluginVersion : conf.cni_version, *error);
  }
  // STATUS (ready whenever the plugin runs: it never blocks pods) and GC (records follow DEL).
  if (environment.command == "STATUS" || environment.command == "GC") return 0;
  if (auto error = requireEnv(environment)) return fail(conf.cni_version, *error);
  if (environment.command == "ADD") return cmdAdd(environment, conf);
  if (environment.command == "DEL") return cmdDel(environment, conf);
  return cmdCheck(environment, conf);
}

}  // namespace
}  // namespace ambit::agent::cni

int main() { return ambit::agent::cni::run(); }
