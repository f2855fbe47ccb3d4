#include "ctl/proxy/proxy_config.h"

#include <optional>

#include "ctl/analyze/analyze_command.h"
#include "ctl/args.h"
#include "ctl/proxy/admin_client.h"
#include "ctl/proxy/config_tables.h"

namespace ambit::ctl {
namespace {

using proxy::ConfigKind;
using proxy::Value;

constexpr const char* kUsage =
    R"(Usage: ambitctl proxy-config workloads|services|policies|certificates|routes|all
                            [--admin HOST:PORT] [-o table|json|yaml] [-n NAMESPACE] [--name NAME]

Shows what one node agent (ambit-agent) or waypoint (ambit-waypoint) holds, read from its admin
server's /config_dump (certificates: /debug/certificates):

  workloads     NAMESPACE NAME IP NODE PROTOCOL STATUS: the pods it knows, with their node, tunnel
                protocol (HBONE for mesh pods) and health
  services      NAMESPACE NAME VIPS PORTS ENDPOINTS: the services, their ports
                (service->target/protocol) and healthy/all endpoints among the known workloads
  policies      NAMESPACE NAME ACTION SCOPE RULES DRY-RUN: the authorization policies as the
                control plane translated them (RULES counts their rules)
  certificates  IDENTITY STATE TYPE SERIAL NOT-BEFORE NOT-AFTER RENEW-AT NEXT-ATTEMPT LAST-ERROR:
                the workload certificates (never keys), then ROOTCA, the trust bundle's roots
  routes        SERVICE VIRTUALSERVICE ROUTE MATCH DESTINATIONS: a waypoint's routes per service
                it serves, in the order they are tried ("default" when no VirtualService applies)
  all           every kind the target has, one table after the other

In the lab the admin servers listen on the node's or pod's address, reachable from the fabric:
  ip netns exec ambit-fabric ambitctl proxy-config workloads --admin 10.200.0.11:15000

Options:
      --admin HOST:PORT      the agent's or waypoint's admin server (default 127.0.0.1:15000)
  -o, --output FORMAT        table (default), json or yaml: the section's entries with every field
  -n, --namespace NAMESPACE  only entries of that namespace (certificates: of that namespace's
                             identities; routes: of that namespace's services)
      --name NAME            only entries of that name: a workload's pod or workload name, a
                             service's or route's service name or hostname, a policy's name, a
                             certificate's service account
  -h, --help                 show this help

Exit status: 0 when shown, 1 when the target cannot be read or has no such kind (routes are a
waypoint's), 2 on a usage error.
)";

struct Options {
  std::optional<ConfigKind> kind;  // nullopt: all
  std::string admin = kDefaultAdmin;
  std::string output = "table";
  proxy::ConfigFilter filter;
  bool help = false;
};

// Returns the options, or nullopt after printing a usage error to `err`.
std::optional<Options> parse(const std::vector<std::string>& args, std::ostream& err) {
  Options options;
  std::vector<std::string> positional;
  auto usageError = [&](const std::string& message) -> std::optional<Options> {
    err << "ambitctl proxy-config: " << message << "\n(see 'ambitctl proxy-config --help')\n";
    return std::nullopt;
  };
  for (ArgReader reader(args); reader.next();) {
    const std::string& arg = reader.arg();
    const std::string& flag = reader.flag();
    if (flag == "-h" || flag == "--help") {
      options.help = true;
    } else if (flag == "--admin") {
      auto v = reader.value();
      if (!v || v->empty()) return usageError("--admin needs HOST:PORT");
      options.admin = *v;
    } else if (flag == "-o" || flag == "--output") {
      auto v = reader.value();
      if (!v || (*v != "table" && *v != "json" && *v != "yaml")) {
        return usageError(flag + " must be table, json or yaml");
      }
      options.output = *v;
    } else if (flag == "-n" || flag == "--namespace") {
      auto v = reader.value();
      if (!v || v->empty()) return usageError(flag + " needs a namespace");
      options.filter.namespace_ = *v;
    } else if (flag == "--name") {
      auto v = reader.value();
      if (!v || v->empty()) return usageError("--name needs a name");
      options.filter.name = *v;
    } else if (arg.size() > 1 && arg[0] == '-') {
      return usageError("unknown option " + arg);
    } else {
      positional.push_back(arg);
    }
  }
  if (options.help) return options;
  if (positional.empty()) {
    return usageError("which kind? workloads, services, policies, certificates, routes or all");
  }
  if (positional.size() > 1) return usageError("unexpected argument " + positional[1]);
  if (positional[0] != "all") {
    options.kind = proxy::parseConfigKind(positional[0]);
    if (!options.kind) {
      return usageError("unknown kind \"" + positional[0] +
                        "\": expected workloads, services, policies, certificates, routes or all");
    }
  }
  if (absl::Status valid = proxy::parseHostPort(options.admin).status(); !valid.ok()) {
    return usageError(std::string(valid.message()));
  }
  return options;
}

// GETs `path` of the admin server and parses it; errors say what was read.
absl::StatusOr<Value> fetch(const std::string& admin, const std::string& path) {
  absl::StatusOr<std::string> body = proxy::httpGet(admin, path);
  if (absl::IsNotFound(body.status())) {
    return absl::NotFoundError(absl::StrCat(
        body.status().message(), " (is ", admin,
        " the admin server of an ambit-agent or ambit-waypoint, port 15000 by default?)"));
  }
  if (!body.ok()) return body.status();
  absl::StatusOr<Value> document = proxy::parseJson(*body);
  if (!document.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("http://", admin, path, " is not JSON: ", document.status().message()));
  }
  if (!document->has_struct_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("http://", admin, path, " is not a JSON object"));
  }
  return document;
}

// The certificates of `dump` when it carries them (the agent's does), else /debug/certificates;
// nullopt when the target has none.
absl::StatusOr<std::optional<Value>> certificatesFor(const Value& dump, const std::string& admin) {
  const Value* embedded = proxy::member(dump, "certificates");
  if (embedded != nullptr && embedded->has_struct_value()) return std::optional<Value>(*embedded);
  absl::StatusOr<Value> fetched = fetch(admin, "/debug/certificates");
  if (absl::IsNotFound(fetched.status())) return std::optional<Value>();
  if (!fetched.ok()) return fetched.status();
  return std::optional<Value>(*std::move(fetched));
}

void print(const Value& value, const std::string& format, std::ostream& out) {
  if (format == "json") {
    out << proxy::toJson(value) << "\n";
  } else {
    out << proxy::toYaml(value);
  }
}

int showOne(const Options& options, ConfigKind kind, std::ostream& out, std::ostream& err) {
  const bool certificates = kind == ConfigKind::kCertificates;
  const absl::StatusOr<Value> document =
      fetch(options.admin, certificates ? "/debug/certificates" : "/config_dump");
  if (!document.ok()) {
    err << "ambitctl proxy-config: " << document.status().message() << "\n";
    return kExitFindings;
  }
  const absl::StatusOr<Value> section = proxy::selectSection(*document, kind, options.filter);
  if (!section.ok()) {
    err << "ambitctl proxy-config: " << options.admin << " has no " << proxy::configKindName(kind)
        << ": its " << (certificates ? "/debug/certificates" : "/config_dump") << " has "
        << section.status().message()
        << (kind == ConfigKind::kRoutes ? " (only a waypoint has routes)" : "") << "\n";
    return kExitFindings;
  }
  if (options.output == "table") {
    proxy::sectionTable(kind, *section, *document).print(out);
  } else {
    print(*section, options.output, out);
  }
  return kExitOk;
}

int showAll(const Options& options, std::ostream& out, std::ostream& err) {
  absl::StatusOr<Value> dump = fetch(options.admin, "/config_dump");
  if (!dump.ok()) {
    err << "ambitctl proxy-config: " << dump.status().message() << "\n";
    return kExitFindings;
  }
  const absl::StatusOr<std::optional<Value>> certificates = certificatesFor(*dump, options.admin);
  if (!certificates.ok()) {
    err << "ambitctl proxy-config: " << certificates.status().message() << "\n";
    return kExitFindings;
  }
  Value all = proxy::makeObject();
  if (const Value* version = proxy::member(*dump, "version")) proxy::put(all, "version", *version);
  bool first = true;
  for (const ConfigKind kind : proxy::kAllConfigKinds) {
    const bool is_certificates = kind == ConfigKind::kCertificates;
    if (is_certificates && !certificates->has_value()) continue;
    const absl::StatusOr<Value> section =
        proxy::selectSection(is_certificates ? **certificates : *dump, kind, options.filter);
    if (!section.ok()) continue;  // a kind this target does not have
    if (options.output == "table") {
      if (!first) out << "\n";
      proxy::sectionTable(kind, *section, *dump).print(out);
    }
    proxy::put(all, proxy::configKindName(kind), *section);
    first = false;
  }
  if (options.output != "table") print(all, options.output, out);
  return kExitOk;
}

}  // namespace

int runProxyConfig(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  const auto options = parse(args, err);
  if (!options) return kExitUsage;
  if (options->help) {
    out << kUsage;
    return kExitOk;
  }
  return options->kind ? showOne(*options, *options->kind, out, err) : showAll(*options, out, err);
}

}  // namespace ambit::ctl
