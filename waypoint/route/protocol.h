// How the waypoint handles a tunnel's bytes: as HTTP/1.1 requests it routes, or as an opaque TCP
// stream it carries to one endpoint. The Service port says so (its name prefix or appProtocol, as
// Istio reads them); a port that does not is sniffed from the first bytes, as Istio sniffs.
#pragma once

#include <string_view>

#include "istio/workload/workload.pb.h"

namespace ambit::waypoint {

enum class StreamProtocol { kHttp1, kHttp2, kTcp, kSniff };

// HTTP11 is routed as HTTP/1.1 and HTTP2 as HTTP/2 (cleartext, prior knowledge; requests go on
// to the endpoint as HTTP/1.1); gRPC is carried as TCP (its trailers need HTTP/2 to the endpoint,
// which the waypoint does not speak yet, so its routes are not applied); TCP and TLS are TCP;
// UNKNOWN is sniffed.
StreamProtocol protocolOf(istio::workload::AppProtocol protocol);

enum class SniffResult { kHttp1, kHttp2, kOther, kNeedMore };

// What `first_bytes` open: an HTTP/1.x request (a method token, a space and a target), the HTTP/2
// connection preface ("PRI * HTTP/2.0"), or anything else. kNeedMore while it cannot tell yet.
SniffResult sniffHttp1(std::string_view first_bytes);

}  // namespace ambit::waypoint
