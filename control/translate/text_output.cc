#include "control/translate/text_output.h"

#include <vector>

#include <absl/strings/str_cat.h>
#include <absl/strings/str_join.h>
#include <google/protobuf/text_format.h>

#include "control/translate/ip.h"

namespace ambit::control::translate {
namespace {

std::string textOf(const google::protobuf::Message& message) {
  google::protobuf::TextFormat::Printer printer;
  printer.SetExpandAny(true);  // extensions show their content (e.g. the labels), not bytes
  std::string out;
  printer.PrintToString(message, &out);  // map entries come out sorted by key
  return out;
}

// The addresses of a resource in readable form, since text format shows bytes escaped.
std::string addressesOf(const istio::workload::Address& address) {
  std::vector<std::string> ips;
  if (address.has_workload()) {
    for (const std::string& ip : address.workload().addresses()) ips.push_back(formatIp(ip));
  } else {
    for (const auto& a : address.service().addresses()) ips.push_back(formatIp(a.address()));
  }
  return ips.empty() ? "" : absl::StrCat(" [", absl::StrJoin(ips, ", "), "]");
}

}  // namespace

std::string formatTranslation(const Translation& translation) {
  std::string out;
  for (const NamedAddress& a : translation.addresses) {
    absl::StrAppend(&out, "# Address ", a.name, addressesOf(a.address), "\n", textOf(a.address),
                    "\n");
  }
  for (const NamedAuthorization& a : translation.authorizations) {
    absl::StrAppend(&out, "# Authorization ", a.name, "\n", textOf(a.authorization), "\n");
  }
  for (const Note& note : translation.notes) absl::StrAppend(&out, "# Note ", note.format(), "\n");
  return out;
}

}  // namespace ambit::control::translate
