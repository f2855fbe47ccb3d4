#include "ctl/explain/explain_format.h"

#include <cstdio>

#include <absl/strings/str_cat.h>
#include <absl/strings/str_join.h>

namespace ambit::ctl::explain {
namespace {

std::string opsText(const std::vector<waypoint::HeaderOp>& ops) {
  return absl::StrJoin(ops, "; ", [](std::string* out, const waypoint::HeaderOp& op) {
    switch (op.kind) {
      case waypoint::HeaderOp::Kind::kRemove:
        absl::StrAppend(out, "remove ", op.name);
        break;
      case waypoint::HeaderOp::Kind::kSet:
        absl::StrAppend(out, "set ", op.name, ": ", op.value);
        break;
      case waypoint::HeaderOp::Kind::kAdd:
        absl::StrAppend(out, "add ", op.name, ": ", op.value);
        break;
    }
  });
}

template <class Message>
std::string protoText(const char* name, const Message* message, const char* absent) {
  return absl::StrCat(name, ": ", message == nullptr ? absent : message->ShortDebugString());
}

std::string retriesText(const waypoint::RetryPolicy& retries) {
  if (retries.attempts == 0) return "Retries: none";
  std::string line = absl::StrCat(
      "Retries: ", retries.istio_default ? "Istio's default (the route sets none): " : "",
      "attempts ", retries.attempts, ", perTryTimeout ",
      retries.per_try_timeout_ms ? durationText(*retries.per_try_timeout_ms) : std::string("none"),
      ", retryOn ", retries.retry_on);
  if (!retries.retriable_status_codes.empty()) {
    absl::StrAppend(&line, " (status ", absl::StrJoin(retries.retriable_status_codes, ", "), ")");
  }
  return line;
}

}  // namespace

std::string percentText(double percent) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%g%%", percent);
  return buffer;
}

std::string durationText(int64_t ms) {
  return ms % 1000 == 0 ? absl::StrCat(ms / 1000, "s") : absl::StrCat(ms, "ms");
}

std::string targetText(const waypoint::RouteTarget& target, uint16_t port) {
  return absl::StrCat(target.host, target.subset.empty() ? "" : " subset ", target.subset, " port ",
                      port);
}

std::string sourceText(const Source& source) {
  if (!source.workload) {
    return "no Deployment or Pod of that name is loaded, so no labels";
  }
  const Workload& w = *source.workload;
  return absl::StrCat(w.kind, " ", w.name, ", ", w.kind == "Pod" ? "labels " : "pod labels ",
                      w.labels.empty() ? "(none)" : formatLabels(w.labels));
}

std::string workloadText(const Workload& workload) {
  std::string out = absl::StrCat(workload.kind, " ", workload.name, " (");
  if (workload.kind == "Deployment") {
    if (workload.replicas > 0) {
      absl::StrAppend(&out, workload.replicas,
                      workload.replicas == 1 ? " replica, " : " replicas, ");
    }
    absl::StrAppend(&out, "pods labelled ");
  } else {
    absl::StrAppend(&out, "labels ");
  }
  absl::StrAppend(&out, formatLabels(workload.labels), ")");
  const auto version = workload.labels.find("version");
  absl::StrAppend(&out, ", version ",
                  version == workload.labels.end() ? "(no version label)" : version->second);
  return out;
}

std::vector<std::string> headerLines(const waypoint::HeaderPlan& plan) {
  std::vector<std::string> out;
  if (!plan.request.empty())
    out.push_back(absl::StrCat("Request headers: ", opsText(plan.request)));
  if (!plan.response.empty()) {
    out.push_back(absl::StrCat("Response headers: ", opsText(plan.response)));
  }
  if (plan.authority) out.push_back(absl::StrCat("Authority: ", *plan.authority));
  return out;
}

std::vector<std::string> trafficPolicyLines(const waypoint::TrafficPolicyView& policy) {
  std::vector<std::string> out = {
      protoText("loadBalancer", policy.load_balancer, "default (round robin)"),
      protoText("connectionPool", policy.connection_pool, "default (no limits)"),
      protoText("outlierDetection", policy.outlier_detection, "none"),
  };
  if (policy.tls != nullptr) out.push_back(protoText("tls", policy.tls, ""));
  return out;
}

std::vector<std::string> routePolicyLines(const waypoint::RoutePolicy& policy, bool forward) {
  std::vector<std::string> out;
  if (!forward) return out;  // the waypoint answers at once: no upstream, no faults
  out.push_back(absl::StrCat(
      "Timeout: ", policy.timeout_ms ? durationText(*policy.timeout_ms) : std::string("none")));
  out.push_back(retriesText(policy.retries));
  if (policy.delay) {
    out.push_back(absl::StrCat("Fault: delay ", durationText(policy.delay->delay_ms), " on ",
                               percentText(policy.delay->percent), " of requests"));
  }
  if (policy.abort) {
    const std::string what = policy.abort->http_status != 0
                                 ? absl::StrCat("status ", policy.abort->http_status)
                                 : absl::StrCat("gRPC status ", policy.abort->grpc_status);
    out.push_back(absl::StrCat("Fault: abort with ", what, " on ",
                               percentText(policy.abort->percent), " of requests"));
  }
  if (!policy.delay && !policy.abort) out.emplace_back("Faults: none");
  for (const waypoint::MirrorPolicy& mirror : policy.mirrors) {
    out.push_back(absl::StrCat(
        "Mirror: ", mirror.target.host, mirror.target.subset.empty() ? "" : " subset ",
        mirror.target.subset,
        mirror.target.port == 0 ? std::string() : absl::StrCat(" port ", mirror.target.port), ", ",
        percentText(mirror.percent), " of requests"));
  }
  if (policy.mirrors.empty()) out.emplace_back("Mirrors: none");
  if (policy.cors != nullptr) {
    out.push_back(absl::StrCat("CORS: ", policy.cors->ShortDebugString(),
                               " (ambit-waypoint does not apply it)"));
  }
  return out;
}

}  // namespace ambit::ctl::explain
