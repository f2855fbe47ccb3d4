#include "control/translate/workload_meta.h"

#include <absl/strings/match.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/str_split.h>

namespace ambit::control::translate {
namespace {

const std::string* firstLabel(const Labels& labels, std::initializer_list<const char*> keys) {
  for (const char* key : keys) {
    if (const std::string* value = findLabel(labels, key)) return value;
  }
  return nullptr;
}

// The Deployment in the pod's namespace whose non-empty selector matches the pod and whose name,
// followed by "-", starts the pod's name (pods written out for a Deployment by hand or by the lab).
const std::string* selectingDeployment(const k8s::ObjectMeta& pod, const MeshObjects& objects) {
  for (const config::Object* o : objects.ofKindIn(config::Kind::kDeployment, pod.namespace_())) {
    const auto& selector = o->as<k8s::Deployment>().spec().selector().match_labels();
    if (selector.empty() || !selectorMatches(selector, pod.labels())) continue;
    if (absl::StartsWith(pod.name(), absl::StrCat(o->name(), "-"))) return &o->name();
  }
  return nullptr;
}

}  // namespace

CanonicalService canonicalService(const Labels& labels, const std::string& workload_name) {
  CanonicalService out;
  const std::string* name =
      firstLabel(labels, {"service.istio.io/canonical-name", "app.kubernetes.io/name", "app"});
  out.name = name != nullptr ? *name : workload_name;
  const std::string* revision = firstLabel(
      labels, {"service.istio.io/canonical-revision", "app.kubernetes.io/version", "version"});
  out.revision = revision != nullptr ? *revision : "latest";
  return out;
}

std::string workloadName(const k8s::ObjectMeta& pod, const MeshObjects& objects) {
  if (const std::string* name = findLabel(pod.labels(), kWorkloadNameLabel)) return *name;
  if (!pod.generate_name().empty()) {
    // Controllers name their pods "<owner>-<random>" through generateName "<owner>-".
    std::string owner = pod.generate_name();
    if (absl::EndsWith(owner, "-")) owner.pop_back();
    const std::string* hash = findLabel(pod.labels(), "pod-template-hash");
    if (hash != nullptr && !hash->empty() && absl::EndsWith(owner, absl::StrCat("-", *hash))) {
      owner.resize(owner.size() - hash->size() - 1);  // ReplicaSet "<deployment>-<hash>"
    }
    if (!owner.empty()) return owner;
  }
  if (const std::string* deployment = selectingDeployment(pod, objects)) return *deployment;
  return pod.name();
}

bool ambientEnrolled(const k8s::ObjectMeta& pod, const k8s::PodSpec& spec,
                     const Labels& namespace_labels) {
  if (spec.host_network()) return false;
  if (pod.annotations().count(kSidecarStatusAnnotation) > 0) return false;
  const std::string* mode = findLabel(pod.labels(), kDataplaneModeLabel);
  if (mode != nullptr && *mode == "ambient") return true;
  if (mode != nullptr && *mode == "none") return false;
  const std::string* ns_mode = findLabel(namespace_labels, kDataplaneModeLabel);
  return ns_mode != nullptr && *ns_mode == "ambient";
}

bool supportsHttpTunnel(const Labels& labels) {
  const std::string* tunnel = findLabel(labels, kTunnelLabel);
  if (tunnel == nullptr) return false;
  for (absl::string_view part : absl::StrSplit(*tunnel, ',')) {
    if (part == "http") return true;
  }
  return false;
}

}  // namespace ambit::control::translate
