// The client side of HBONE (the node agent's outbound tunnels): opens CONNECT streams to a peer's
// port 15008 and reports each response. A pool opens another connection when canOpenStream() says
// this one is full or draining.
#pragma once

#include <functional>
#include <memory>
#include <string_view>

#include "core/hbone/hbone_session.h"

namespace ambit::hbone {

class HboneClientSession : public HboneSession {
 public:
  // The final response to a stream's request: a 2xx status means the tunnel is open.
  using ResponseHandler =
      std::function<void(int32_t stream, int status, const HboneHeaders& headers)>;

  static absl::StatusOr<std::unique_ptr<HboneClientSession>> create(
      const HboneOptions& options = {});

  void setResponseHandler(ResponseHandler handler) { on_response_ = std::move(handler); }

  // Opens a tunnel to `authority` (formatAuthority()), e.g. with forwarded, baggage and
  // traceparent headers. Bytes may be sent at once; they reach the target once the server
  // answers 2xx. Fails when canOpenStream() is false.
  absl::StatusOr<int32_t> openConnect(std::string_view authority, const HboneHeaders& headers = {});
  // Any request (another method, :scheme and :path): for probing servers.
  absl::StatusOr<int32_t> openStream(const HboneRequest& request);

  // False once the peer's SETTINGS_MAX_CONCURRENT_STREAMS is reached, or after a GOAWAY either
  // way, or when the session failed.
  bool canOpenStream() const;
  uint32_t peerMaxConcurrentStreams() const;

 private:
  explicit HboneClientSession(const HboneOptions& options) : HboneSession(Role::kClient, options) {}
  void onHeadersComplete(Stream& stream) override;

  ResponseHandler on_response_;
};

}  // namespace ambit::hbone
