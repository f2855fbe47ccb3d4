#include "core/hbone/hbone_client.h"

#include <string>
#include <vector>

namespace ambit::hbone {

absl::StatusOr<std::unique_ptr<HboneClientSession>> HboneClientSession::create(
    const HboneOptions& options) {
  std::unique_ptr<HboneClientSession> session(new HboneClientSession(options));
  AMBIT_RETURN_IF_ERROR(session->init());
  return session;
}

uint32_t HboneClientSession::peerMaxConcurrentStreams() const {
  return nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
}

bool HboneClientSession::canOpenStream() const {
  return status().ok() && !shutdown_ && nghttp2_session_check_request_allowed(session_) != 0 &&
         activeStreams() < peerMaxConcurrentStreams();
}

absl::StatusOr<int32_t> HboneClientSession::openConnect(std::string_view authority,
                                                        const HboneHeaders& headers) {
  HboneRequest request;
  request.method = "CONNECT";
  request.authority = std::string(authority);
  request.headers = headers;
  return openStream(request);
}

absl::StatusOr<int32_t> HboneClientSession::openStream(const HboneRequest& request) {
  AMBIT_RETURN_IF_ERROR(status());
  if (!canOpenStream()) {
    if (shutdown_ || nghttp2_session_check_request_allowed(session_) == 0) {
      return absl::FailedPreconditionError("hbone: the connection is draining (GOAWAY)");
    }
    return absl::ResourceExhaustedError(absl::StrCat(
        "hbone: the peer's limit of ", peerMaxConcurrentStreams(), " streams is reached"));
  }
  std::vector<nghttp2_nv> nva = {field(":method", request.method)};
  if (!request.scheme.empty()) nva.push_back(field(":scheme", request.scheme));
  nva.push_back(field(":authority", request.authority));
  if (!request.path.empty()) nva.push_back(field(":path", request.path));
  if (!request.protocol.empty()) nva.push_back(field(":protocol", request.protocol));
  AMBIT_RETURN_IF_ERROR(appendHeaders(request.headers, nva));

  auto stream = std::make_unique<Stream>();
  stream->visible = true;
  stream->can_send = true;
  const nghttp2_data_provider provider = dataProvider(*stream);
  const int32_t id =
      nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(), &provider, nullptr);
  if (id < 0) {
    return absl::InternalError(absl::StrCat("hbone: open stream: ", nghttp2_strerror(id)));
  }
  addStream(id, std::move(stream));
  return id;
}

void HboneClientSession::onHeadersComplete(Stream& stream) {
  if (stream.status < 200) {  // 1xx: the final response is still to come
    stream.status = 0;
    stream.headers.clear();
    stream.header_bytes = 0;
    return;
  }
  stream.headers_done = true;
  const HboneHeaders headers = std::move(stream.headers);
  stream.headers = {};
  if (on_response_) on_response_(stream.id, stream.status, headers);
}

}  // namespace ambit::hbone
