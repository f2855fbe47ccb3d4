#include "control/translate/policy_index.h"

#include <algorithm>

#include <absl/strings/str_cat.h>

#include "istio/security/v1beta1/authorization_policy.pb.h"

namespace ambit::control::translate {

PolicyIndex::PolicyIndex(const MeshObjects& objects, const Options& options,
                         std::vector<Note>& notes)
    : peer_authentications_(objects, options), options_(options) {
  for (const config::Object* o : objects.ofKind(config::Kind::kAuthorizationPolicy)) {
    ConvertedPolicy converted = convertAuthorizationPolicy(*o, options);
    if (!converted.reason.empty()) {
      std::string message = converted.message;
      if (converted.l7 != L7Handling::kNone) {
        absl::StrAppend(&message, " [", l7HandlingName(converted.l7), "]");
      }
      addNote(notes, *o, converted.reason, std::move(message));
    }
    if (!converted.authorization) continue;
    const auto& spec = o->as<istio::security::v1beta1::AuthorizationPolicy>();
    if (spec.has_selector()) {
      selecting_.push_back(Selecting{absl::StrCat(o->namespace_(), "/", o->name()), o->namespace_(),
                                     spec.selector().match_labels()});
    }
    authorizations_.push_back(std::move(*converted.authorization));
  }
  for (istio::security::Authorization& a : peer_authentications_.policies()) {
    authorizations_.push_back(std::move(a));
  }
}

std::vector<std::string> PolicyIndex::keysFor(const std::string& namespace_,
                                              const Labels& labels) const {
  std::vector<std::string> keys;
  for (const Selecting& s : selecting_) {
    if (s.namespace_ != namespace_ && s.namespace_ != options_.root_namespace) continue;
    if (selectorMatches(s.selector, labels)) keys.push_back(s.key);
  }
  std::sort(keys.begin(), keys.end());
  for (std::string& key : peer_authentications_.keysFor(namespace_, labels)) {
    keys.push_back(std::move(key));
  }
  return keys;
}

}  // namespace ambit::control::translate
