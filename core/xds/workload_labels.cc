#include "core/xds/workload_labels.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "ambit/workload/v1/labels.pb.h"

namespace ambit::xds {

void setWorkloadLabels(const std::map<std::string, std::string>& labels,
                       istio::workload::Workload& workload) {
  auto* extensions = workload.mutable_extensions();
  for (int i = 0; i < extensions->size(); ++i) {
    if (extensions->Get(i).name() == kLabelsExtension) {
      extensions->DeleteSubrange(i, 1);
      break;
    }
  }
  if (labels.empty()) return;
  ambit::workload::v1::WorkloadLabels message;
  message.mutable_labels()->insert(labels.begin(), labels.end());
  istio::workload::Extension& extension = *workload.add_extensions();
  extension.set_name(kLabelsExtension);
  // Packed by hand: PackFrom orders map entries arbitrarily, and resource versions are hashes of
  // the serialized bytes, so equal labels must serialize equally.
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  extension.mutable_config()->set_type_url(
      "type.googleapis.com/" + ambit::workload::v1::WorkloadLabels::descriptor()->full_name());
  extension.mutable_config()->set_value(std::move(bytes));
}

std::map<std::string, std::string> workloadLabels(const istio::workload::Workload& workload) {
  for (const istio::workload::Extension& extension : workload.extensions()) {
    if (extension.name() != kLabelsExtension) continue;
    ambit::workload::v1::WorkloadLabels message;
    if (!extension.config().UnpackTo(&message)) return {};
    return {message.labels().begin(), message.labels().end()};
  }
  return {};
}

}  // namespace ambit::xds
