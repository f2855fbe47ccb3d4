// The server side of HBONE (the node agent's inbound port 15008): takes CONNECT streams, hands
// each valid request to the request handler and answers the invalid ones itself.
#pragma once

#include <functional>
#include <memory>

#include "core/hbone/hbone_session.h"

namespace ambit::hbone {

class HboneServerSession : public HboneSession {
 public:
  // Called for each CONNECT whose :authority is `<ipv4>:<port>` or `[<ipv6>]:<port>`; the handler
  // answers with respond(), at once or later. Other requests never reach it: the session answers
  // 405 (not CONNECT) or 400 (bad authority) on that stream alone.
  using RequestHandler = std::function<void(int32_t stream, const HboneRequest& request)>;

  static absl::StatusOr<std::unique_ptr<HboneServerSession>> create(
      const HboneOptions& options = {});

  void setRequestHandler(RequestHandler handler) { on_request_ = std::move(handler); }

  // Answers a request. A 2xx status opens the tunnel: DATA then flows both ways. Any other status
  // (403, 502, 503, ...) ends the stream; on_close follows.
  absl::Status respond(int32_t stream, int status, const HboneHeaders& headers = {});

 private:
  explicit HboneServerSession(const HboneOptions& options) : HboneSession(Role::kServer, options) {}
  void onHeadersComplete(Stream& stream) override;
  absl::Status submitResponse(Stream& stream, int status, const HboneHeaders& headers);

  RequestHandler on_request_;
};

}  // namespace ambit::hbone
