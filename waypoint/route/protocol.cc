#include "waypoint/route/protocol.h"

#include <cctype>

namespace ambit::waypoint {

StreamProtocol protocolOf(istio::workload::AppProtocol protocol) {
  switch (protocol) {
    case istio::workload::HTTP11:
      return StreamProtocol::kHttp1;
    case istio::workload::HTTP2:
      return StreamProtocol::kHttp2;
    case istio::workload::UNKNOWN:
      return StreamProtocol::kSniff;
    default:
      return StreamProtocol::kTcp;
  }
}

SniffResult sniffHttp1(std::string_view bytes) {
  constexpr std::string_view kHttp2Preface = "PRI * HTTP/2.0";
  if (bytes.substr(0, kHttp2Preface.size()) ==
      kHttp2Preface.substr(0, std::min(bytes.size(), kHttp2Preface.size()))) {
    return bytes.size() >= kHttp2Preface.size() ? SniffResult::kHttp2 : SniffResult::kNeedMore;
  }
  // RFC 9110 methods are tokens; real ones are upper-case letters (and '-'), at most 20 here.
  size_t i = 0;
  while (i < bytes.size() && i <= 20 &&
         (std::isupper(static_cast<unsigned char>(bytes[i])) || bytes[i] == '-')) {
    ++i;
  }
  if (i == bytes.size()) return i <= 20 ? SniffResult::kNeedMore : SniffResult::kOther;
  if (i == 0 || bytes[i] != ' ') return SniffResult::kOther;
  if (i + 1 == bytes.size()) return SniffResult::kNeedMore;
  const char target = bytes[i + 1];
  return target == '/' || target == '*' || std::isalpha(static_cast<unsigned char>(target))
             ? SniffResult::kHttp1
             : SniffResult::kOther;
}

}  // namespace ambit::waypoint
