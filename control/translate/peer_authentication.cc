#include "control/translate/peer_authentication.h"

#include <algorithm>
#include <set>

#include <absl/strings/str_cat.h>

#include "istio/security/v1beta1/peer_authentication.pb.h"

namespace ambit::control::translate {
namespace {

namespace sec = istio::security;
using api = istio::security::v1beta1::PeerAuthentication;
using Mode = api::MutualTLS::Mode;

const api& specOf(const config::Object& o) { return o.as<api>(); }

// The mode of a policy; UNSET when the policy or its mtls is absent.
Mode modeOf(const config::Object* o) {
  return o == nullptr ? api::MutualTLS::UNSET : specOf(*o).mtls().mode();
}

bool isStrict(Mode m) { return m == api::MutualTLS::STRICT; }
bool isUnset(Mode m) { return m == api::MutualTLS::UNSET; }
bool isPermissiveOrDisable(Mode m) {
  return m == api::MutualTLS::PERMISSIVE || m == api::MutualTLS::DISABLE;
}

// Older first; equal creation times (or none, as in files) fall back to namespace and name so
// the choice is stable.
bool older(const config::Object* a, const config::Object* b) {
  return std::tie(a->meta.creation_timestamp(), a->namespace_(), a->name()) <
         std::tie(b->meta.creation_timestamp(), b->namespace_(), b->name());
}

// A Match denying connections without a peer identity (plaintext).
sec::Match noIdentity() {
  sec::Match m;
  m.add_not_principals()->mutable_presence();
  return m;
}

std::string convertedName(const config::Object& o) {
  return absl::StrCat(kConvertedPeerAuthenticationPrefix, o.name());
}

// Port-level modes in ascending port order, as istiod iterates them.
std::vector<std::pair<uint32_t, Mode>> portModes(const api& spec) {
  std::vector<std::pair<uint32_t, Mode>> out;
  for (const auto& [port, mtls] : spec.port_level_mtls()) out.emplace_back(port, mtls.mode());
  std::sort(out.begin(), out.end());
  return out;
}

bool anyPort(const api& spec, bool (*pred)(Mode)) {
  for (const auto& [port, mtls] : spec.port_level_mtls()) {
    if (pred(mtls.mode())) return true;
  }
  return false;
}

}  // namespace

sec::Authorization staticStrictPolicy(const Options& options) {
  sec::Authorization out;
  out.set_name(kStaticStrictPolicyName);
  out.set_namespace_(options.root_namespace);
  out.set_scope(sec::WORKLOAD_SELECTOR);
  out.set_action(sec::DENY);
  *out.add_groups()->add_rules()->add_matches() = noIdentity();
  return out;
}

std::optional<sec::Authorization> convertPeerAuthentication(const config::Object& policy,
                                                            const config::Object* namespace_policy,
                                                            const config::Object* root_policy,
                                                            const Options& options) {
  const api& spec = specOf(policy);
  if (policy.namespace_() == options.root_namespace || !spec.has_selector() ||
      spec.port_level_mtls().empty()) {
    return std::nullopt;
  }
  const Mode mode = spec.mtls().mode();
  const Mode ns_mode = modeOf(namespace_policy);
  const Mode root_mode = modeOf(root_policy);
  std::vector<sec::Rules> rules;
  std::vector<sec::Group> groups;
  if (isStrict(mode)) *rules.emplace_back().add_matches() = noIdentity();

  bool found_non_strict = false;
  for (const auto& [port, port_mode] : portModes(spec)) {
    if (isStrict(port_mode)) {
      // Left to the parent when the workload, or (as istiod evaluates it) the namespace or mesh
      // mode, is STRICT already.
      const bool parent_strict =
          isStrict(mode) || (isUnset(mode) && namespace_policy != nullptr && isStrict(ns_mode)) ||
          ((namespace_policy == nullptr || isUnset(ns_mode)) && root_policy != nullptr &&
           isStrict(root_mode));
      if (parent_strict) continue;
      sec::Match m = noIdentity();
      m.add_destination_ports(port);
      *groups.emplace_back().add_rules()->add_matches() = std::move(m);
    } else if (isPermissiveOrDisable(port_mode)) {
      if (isPermissiveOrDisable(mode)) continue;
      if (isUnset(mode) &&
          ((namespace_policy != nullptr && !isStrict(ns_mode)) ||
           (namespace_policy == nullptr && root_policy != nullptr && !isStrict(root_mode)) ||
           (namespace_policy == nullptr && root_policy == nullptr))) {
        continue;  // the effective mode is not STRICT: nothing to exempt
      }
      found_non_strict = true;
      sec::Match m;
      m.add_not_destination_ports(port);  // deny plaintext on every port but this one
      *rules.emplace_back().add_matches() = std::move(m);
    }
  }
  if (isStrict(mode) && !found_non_strict) return std::nullopt;  // the static policy suffices
  if (rules.empty() && groups.empty()) return std::nullopt;

  const bool merge_strict =
      (root_policy != nullptr && isStrict(root_mode) &&
       (namespace_policy == nullptr || isUnset(ns_mode) || isStrict(ns_mode))) ||
      (namespace_policy != nullptr && isStrict(ns_mode));
  if (merge_strict && found_non_strict) *rules.emplace_back().add_matches() = noIdentity();
  if (!rules.empty()) {
    sec::Group& group = groups.emplace_back();
    for (sec::Rules& r : rules) *group.add_rules() = std::move(r);
  }

  sec::Authorization out;
  out.set_name(convertedName(policy));
  out.set_namespace_(policy.namespace_());
  out.set_scope(sec::WORKLOAD_SELECTOR);
  out.set_action(sec::DENY);
  for (sec::Group& g : groups) *out.add_groups() = std::move(g);
  return out;
}

PeerAuthentications::PeerAuthentications(const MeshObjects& objects, const Options& options)
    : policies_(objects.ofKind(config::Kind::kPeerAuthentication)), options_(options) {}

const config::Object* PeerAuthentications::namespacePolicy(const std::string& namespace_) const {
  const config::Object* oldest = nullptr;
  for (const config::Object* o : policies_) {
    if (o->namespace_() != namespace_ || specOf(*o).has_selector()) continue;
    if (oldest == nullptr || older(o, oldest)) oldest = o;
  }
  return oldest;
}

std::vector<sec::Authorization> PeerAuthentications::policies() const {
  std::vector<sec::Authorization> out;
  if (policies_.empty()) return out;
  out.push_back(staticStrictPolicy(options_));
  const config::Object* root = namespacePolicy(options_.root_namespace);
  for (const config::Object* o : policies_) {
    std::optional<sec::Authorization> converted =
        convertPeerAuthentication(*o, namespacePolicy(o->namespace_()), root, options_);
    if (converted) out.push_back(std::move(*converted));
  }
  return out;
}

std::vector<std::string> PeerAuthentications::keysFor(const std::string& namespace_,
                                                      const Labels& labels) const {
  // istiod's fetchPeerAuthentications and convertedSelectorPeerAuthentications.
  const config::Object* mesh = nullptr;
  const config::Object* ns = nullptr;
  const config::Object* workload = nullptr;
  for (const config::Object* o : policies_) {
    const api& spec = specOf(*o);
    if (o->namespace_() == namespace_) {
      if (spec.has_selector() && !selectorMatches(spec.selector().match_labels(), labels)) continue;
    } else if (o->namespace_() != options_.root_namespace || spec.has_selector()) {
      continue;
    }
    const bool wide = !spec.has_selector() || spec.selector().match_labels().empty();
    const config::Object** slot = nullptr;
    if (wide) {
      slot = o->namespace_() == options_.root_namespace ? &mesh : &ns;
    } else if (o->namespace_() != options_.root_namespace) {
      slot = &workload;
    }
    if (slot != nullptr && (*slot == nullptr || older(o, *slot))) *slot = o;
  }

  bool strict = mesh != nullptr && isStrict(modeOf(mesh));
  if (ns != nullptr && !isUnset(modeOf(ns))) strict = isStrict(modeOf(ns));
  std::string port_key;
  if (workload != nullptr) {
    const api& spec = specOf(*workload);
    const Mode mode = spec.mtls().mode();
    if (isStrict(mode)) strict = true;
    if (isPermissiveOrDisable(mode)) strict = false;
    const std::string key = absl::StrCat(workload->namespace_(), "/", convertedName(*workload));
    if (!spec.port_level_mtls().empty()) {
      if (isStrict(mode)) {
        if (anyPort(spec, isPermissiveOrDisable)) {
          port_key = key;  // its converted form carries the STRICT default
          strict = false;
        }
      } else if (isPermissiveOrDisable(mode)) {
        if (anyPort(spec, isStrict)) port_key = key;
      } else if (strict) {
        if (anyPort(spec, [](Mode m) { return m == api::MutualTLS::PERMISSIVE; })) {
          port_key = key;
          strict = false;
        }
      } else if (anyPort(spec, isStrict)) {
        port_key = key;
      }
    }
  }
  std::set<std::string> keys;
  if (strict) keys.insert(absl::StrCat(options_.root_namespace, "/", kStaticStrictPolicyName));
  if (!port_key.empty()) keys.insert(port_key);
  return {keys.begin(), keys.end()};
}

}  // namespace ambit::control::translate
