#include "ctl/proxy/proxy_status.h"

#include <algorithm>
#include <cstdlib>
#include <optional>

#include <absl/strings/ascii.h>
#include <absl/strings/numbers.h>

#include "ctl/analyze/analyze_command.h"
#include "ctl/args.h"
#include "ctl/proxy/admin_client.h"
#include "ctl/proxy/table.h"

namespace ambit::ctl {
namespace proxy {
namespace {

// Ambit's resource types in the order a client meets them: the node agent's, then the
// waypoint's, then what the control plane selects for waypoints without their applying it.
constexpr const char* kTypeOrder[] = {
    "ADDRESS",     "AUTHORIZATION",       "VIRTUALSERVICE",        "DESTINATIONRULE",
    "ENVOYFILTER", "AUTHORIZATIONPOLICY", "REQUESTAUTHENTICATION", "TELEMETRY"};

size_t typeRank(const std::string& short_name) {
  const auto* found = std::find(std::begin(kTypeOrder), std::end(kTypeOrder), short_name);
  return static_cast<size_t>(found - std::begin(kTypeOrder));
}

uint64_t count(const Value& object, const std::string& key) {
  const Value* value = member(object, key);
  return value != nullptr && value->has_number_value() && value->number_value() > 0
             ? static_cast<uint64_t>(value->number_value())
             : 0;
}

// "node node1" and "waypoint spiffe://..." are what the control plane authenticated; a client it
// did not authenticate is known only by the node id it chose, which waypoints prefix.
std::string kindOf(const std::string& caller, const std::string& node_id) {
  if (caller.rfind("node ", 0) == 0) return "agent";
  if (caller.rfind("waypoint ", 0) == 0) return "waypoint";
  if (caller.empty() && node_id.rfind("waypoint~", 0) == 0) return "waypoint";
  return "";
}

// The greatest of the versions, numerically where they are numbers (the control plane's push
// counter), as text otherwise.
bool newerVersion(const std::string& candidate, const std::string& current) {
  if (current.empty()) return !candidate.empty();
  uint64_t a = 0;
  uint64_t b = 0;
  if (absl::SimpleAtoi(candidate, &a) && absl::SimpleAtoi(current, &b)) return a > b;
  return candidate > current;
}

}  // namespace

SyncState syncState(const std::string& sent_nonce, const std::string& acked_nonce,
                    const std::string& nacked_nonce) {
  if (sent_nonce.empty()) return SyncState::kNotSent;
  if (acked_nonce == sent_nonce) return SyncState::kSynced;
  if (nacked_nonce == sent_nonce) return SyncState::kNacked;
  return SyncState::kStale;
}

std::string syncStateName(SyncState state) {
  switch (state) {
    case SyncState::kSynced:
      return "SYNCED";
    case SyncState::kStale:
      return "STALE";
    case SyncState::kNacked:
      return "NACKED";
    case SyncState::kNotSent:
      return "NOT SENT";
  }
  return "";
}

std::string syncStateText(SyncState state, uint64_t nacks) {
  return state == SyncState::kNacked ? absl::StrCat("NACKED (", nacks, ")") : syncStateName(state);
}

std::string shortTypeName(const std::string& type_url) {
  const size_t cut = type_url.find_last_of("/.");
  return absl::AsciiStrToUpper(cut == std::string::npos ? type_url : type_url.substr(cut + 1));
}

absl::StatusOr<std::vector<ClientStatus>> readSyncz(const Value& syncz) {
  if (!syncz.has_list_value()) {
    return absl::InvalidArgumentError("/debug/syncz is not a list of clients");
  }
  std::vector<ClientStatus> clients;
  for (const Value& object : syncz.list_value().values()) {
    if (!object.has_struct_value()) {
      return absl::InvalidArgumentError("/debug/syncz holds something other than client objects");
    }
    ClientStatus client;
    client.name = text(object, "node_id");
    client.kind = kindOf(text(object, "caller"), client.name);
    client.syncz = object;
    for (const Value& type : elements(member(object, "types"))) {
      TypeStatus status;
      status.type_url = text(type, "type_url");
      status.nacks = count(type, "nacks");
      const Value* last_nack = member(type, "last_nack");
      status.state = syncState(text(type, "sent_nonce"), text(type, "acked_nonce"),
                               last_nack != nullptr ? text(*last_nack, "nonce") : "");
      status.syncz = type;
      const std::string acked = text(type, "acked_version");
      if (newerVersion(acked, client.version)) client.version = acked;
      client.types.push_back(std::move(status));
    }
    clients.push_back(std::move(client));
  }
  return clients;
}

std::vector<std::string> typeColumns(const std::vector<ClientStatus>& clients) {
  std::vector<std::string> columns;
  for (const ClientStatus& client : clients) {
    for (const TypeStatus& type : client.types) {
      const std::string name = shortTypeName(type.type_url);
      if (std::find(columns.begin(), columns.end(), name) == columns.end()) columns.push_back(name);
    }
  }
  std::sort(columns.begin(), columns.end(), [](const std::string& a, const std::string& b) {
    const size_t ra = typeRank(a);
    const size_t rb = typeRank(b);
    return ra != rb ? ra < rb : a < b;
  });
  return columns;
}

void printStatusTable(const std::vector<ClientStatus>& clients, const std::string& control,
                      std::ostream& out) {
  const std::vector<std::string> columns = typeColumns(clients);
  std::vector<std::string> header = {"NAME", "KIND"};
  header.insert(header.end(), columns.begin(), columns.end());
  header.insert(header.end(), {"CONTROL", "VERSION"});
  Table table(std::move(header));
  for (const ClientStatus& client : clients) {
    std::vector<std::string> row = {client.name, client.kind};
    for (const std::string& column : columns) {
      std::string cell;
      for (const TypeStatus& type : client.types) {
        if (shortTypeName(type.type_url) == column) cell = syncStateText(type.state, type.nacks);
      }
      row.push_back(cell);
    }
    row.insert(row.end(), {control, client.version});
    table.add(std::move(row));
  }
  table.print(out);
}

Value statusValue(const std::vector<ClientStatus>& clients, const std::string& control) {
  Value root = makeObject();
  put(root, "control", makeString(control));
  Value list = makeList();
  for (const ClientStatus& client : clients) {
    Value object = client.syncz;
    put(object, "name", makeString(client.name));
    put(object, "kind", makeString(client.kind));
    put(object, "version", makeString(client.version));
    Value types = makeList();
    for (const TypeStatus& type : client.types) {
      Value entry = type.syncz;
      put(entry, "type", makeString(shortTypeName(type.type_url)));
      put(entry, "status", makeString(syncStateName(type.state)));
      append(types, std::move(entry));
    }
    put(object, "types", std::move(types));
    append(list, std::move(object));
  }
  put(root, "clients", std::move(list));
  return root;
}

}  // namespace proxy

namespace {

constexpr const char* kUsage =
    R"(Usage: ambitctl proxy-status [--control HOST:PORT] [-o table|json|yaml]

Shows, for every node agent and waypoint connected to the control plane, whether each kind of
configuration it subscribed to is in sync, as the control plane's /debug/syncz reports it:

  SYNCED      the last response sent was acknowledged (ACK)
  STALE       a response was sent and is not answered yet
  NACKED (n)  the last response sent was rejected (NACK); n rejections on this stream so far
  NOT SENT    nothing was sent yet (the client may still be waiting for its first push)
  -           the client did not subscribe to that kind

NAME is the node id the client sent (waypoints send "waypoint~NAMESPACE/NAME"), KIND what the
control plane authenticated it as, CONTROL the address read and VERSION the newest configuration
push the client acknowledged. -o json and -o yaml print every field of /debug/syncz per client,
with the names and states above; a NACK's reason is under "last_nack".

In the lab the debug server listens on the fabric's address:
  ip netns exec ambit-fabric ambitctl proxy-status --control 10.200.0.1:15014

Options:
      --control HOST:PORT  the control plane's debug server (default: $AMBIT_CONTROL_DEBUG if set,
                           else 127.0.0.1:15014, ambit-control's --debug-address and --debug-port)
  -o, --output FORMAT      table (default), json or yaml
  -h, --help               show this help

Exit status: 0 when shown, 1 when the control plane cannot be reached or answers something else
than /debug/syncz, 2 on a usage error.
)";

struct Options {
  std::string control;
  std::string output = "table";
  bool help = false;
};

// Returns the options, or nullopt after printing a usage error to `err`.
std::optional<Options> parse(const std::vector<std::string>& args, std::ostream& err) {
  Options options;
  const char* env = std::getenv(kControlDebugEnv);
  options.control = env != nullptr && *env != '\0' ? env : kDefaultControlDebug;
  auto usageError = [&](const std::string& message) -> std::optional<Options> {
    err << "ambitctl proxy-status: " << message << "\n(see 'ambitctl proxy-status --help')\n";
    return std::nullopt;
  };
  for (ArgReader reader(args); reader.next();) {
    const std::string& flag = reader.flag();
    if (flag == "-h" || flag == "--help") {
      options.help = true;
    } else if (flag == "--control") {
      auto v = reader.value();
      if (!v || v->empty()) return usageError("--control needs HOST:PORT");
      options.control = *v;
    } else if (flag == "-o" || flag == "--output") {
      auto v = reader.value();
      if (!v || (*v != "table" && *v != "json" && *v != "yaml")) {
        return usageError(flag + " must be table, json or yaml");
      }
      options.output = *v;
    } else {
      return usageError("unexpected argument " + reader.arg());
    }
  }
  if (!options.help) {
    if (absl::Status valid = proxy::parseHostPort(options.control).status(); !valid.ok()) {
      return usageError(std::string(valid.message()));
    }
  }
  return options;
}

}  // namespace

int runProxyStatus(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  const auto options = parse(args, err);
  if (!options) return kExitUsage;
  if (options->help) {
    out << kUsage;
    return kExitOk;
  }
  // 1 (kExitFindings) is every command's "could not do what was asked".
  const absl::StatusOr<std::string> body = proxy::httpGet(options->control, "/debug/syncz");
  if (!body.ok()) {
    err << "ambitctl proxy-status: " << body.status().message();
    if (absl::IsUnavailable(body.status())) {
      err << " (is ambit-control running? name its debug server with --control or "
          << kControlDebugEnv << ")";
    }
    err << "\n";
    return kExitFindings;
  }
  const absl::StatusOr<proxy::Value> syncz = proxy::parseJson(*body);
  if (!syncz.ok()) {
    err << "ambitctl proxy-status: http://" << options->control
        << "/debug/syncz is not JSON: " << syncz.status().message() << "\n";
    return kExitFindings;
  }
  const auto clients = proxy::readSyncz(*syncz);
  if (!clients.ok()) {
    err << "ambitctl proxy-status: http://" << options->control << ": "
        << clients.status().message() << "\n";
    return kExitFindings;
  }
  if (options->output == "json") {
    out << proxy::toJson(proxy::statusValue(*clients, options->control)) << "\n";
  } else if (options->output == "yaml") {
    out << proxy::toYaml(proxy::statusValue(*clients, options->control));
  } else if (clients->empty()) {
    out << "No node agent or waypoint is connected to the control plane at " << options->control
        << ".\n";
  } else {
    proxy::printStatusTable(*clients, options->control, out);
  }
  return kExitOk;
}

}  // namespace ambit::ctl
