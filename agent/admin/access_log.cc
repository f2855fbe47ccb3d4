#include "agent/admin/access_log.h"

#include <cstdio>

#include "core/log.h"

namespace ambit::agent {
namespace {

bool needsQuotes(const std::string& value) {
  for (const char c : value) {
    if (c == ' ' || c == '"' || c == '\\' || c == '=' || static_cast<unsigned char>(c) < 0x20 ||
        c == 0x7f) {
      return true;
    }
  }
  return value.empty();
}

void appendValue(std::string& out, const std::string& value) {
  if (!needsQuotes(value)) {
    out += value;
    return;
  }
  out += '"';
  for (const char c : value) {
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
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char hex[8];
          std::snprintf(hex, sizeof(hex), "\\x%02x", static_cast<unsigned char>(c));
          out += hex;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void field(std::string& out, const char* key, const std::string& value) {
  if (!out.empty()) out += ' ';
  out += key;
  out += '=';
  appendValue(out, value);
}

// Left out when empty, as ztunnel leaves out what it does not know.
void optionalField(std::string& out, const char* key, const std::string& value) {
  if (!value.empty()) field(out, key, value);
}

}  // namespace

void setDecision(ConnectionRecord& record, const InboundDecision& decision) {
  if (decision.verdict == InboundDecision::Verdict::kAllow) {
    record.decision = "allow";
    return;
  }
  if (decision.verdict != InboundDecision::Verdict::kDenied) {
    record.decision = inboundVerdictLabel(decision.verdict);
    return;
  }
  record.decision = authorizationReasonLabel(decision.authz.reason);
  record.policy = decision.authz.policy;
  record.group = decision.authz.group;
  record.rule = decision.authz.rule;
  record.response_flags = ResponseFlags::kDeny;
}

std::string formatAccessLog(const ConnectionRecord& record) {
  const bool mtls = record.security_policy == SecurityPolicy::kMutualTls;
  const bool outbound = record.reporter == Reporter::kSource;
  std::string out;
  out.reserve(512);
  optionalField(out, "src.addr", record.source_address);
  optionalField(out, "src.workload", record.source_workload);
  optionalField(out, "src.namespace", record.source_namespace);
  // Without mutual TLS nothing proved who the peer is, so no identity is claimed.
  if (mtls) optionalField(out, "src.identity", record.source_principal);
  optionalField(out, "dst.addr", record.destination_address);
  optionalField(out, "dst.hbone_addr", record.destination_hbone_address);
  optionalField(out, "dst.service", record.destination_service);
  optionalField(out, "dst.workload", record.destination_workload);
  optionalField(out, "dst.namespace", record.destination_namespace);
  if (mtls) optionalField(out, "dst.identity", record.destination_principal);
  field(out, "direction", outbound ? "outbound" : "inbound");
  field(out, "bytes_sent",
        std::to_string(outbound ? record.source_to_destination_bytes
                                : record.destination_to_source_bytes));
  field(out, "bytes_recv",
        std::to_string(outbound ? record.destination_to_source_bytes
                                : record.source_to_destination_bytes));
  field(out, "duration", std::to_string(record.duration.count()) + "ms");
  field(out, "decision", record.decision != nullptr ? record.decision : "allow");
  if (!record.policy.empty()) {
    field(out, "policy", record.policy);
    if (record.group >= 0) field(out, "group", std::to_string(record.group));
    if (record.rule >= 0) field(out, "rule", std::to_string(record.rule));
  }
  field(out, "response_flags", responseFlagsLabel(record.response_flags));
  field(out, "security_policy", securityPolicyLabel(record.security_policy));
  optionalField(out, "error", record.error);
  return out;
}

void logAccess(const ConnectionRecord& record) {
  // Looked up once: log::get takes a lock, and this runs for every connection.
  static const std::shared_ptr<spdlog::logger> logger = log::get("access");
  if (!logger->should_log(spdlog::level::info)) return;
  logger->info("{}", formatAccessLog(record));
}

}  // namespace ambit::agent
