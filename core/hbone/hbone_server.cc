#include "core/hbone/hbone_server.h"

#include <string>
#include <vector>

namespace ambit::hbone {

absl::StatusOr<std::unique_ptr<HboneServerSession>> HboneServerSession::create(
    const HboneOptions& options) {
  std::unique_ptr<HboneServerSession> session(new HboneServerSession(options));
  AMBIT_RETURN_IF_ERROR(session->init());
  return session;
}

void HboneServerSession::onHeadersComplete(Stream& stream) {
  stream.headers_done = true;
  if (shutdown_ && stream.id > goaway_last_stream_) {
    // Beyond the GOAWAY's last stream: the client treats it as never processed and retries it.
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream.id, NGHTTP2_REFUSED_STREAM);
    return;
  }
  const absl::StatusOr<HboneAuthority> target = parseAuthority(stream.request.authority);
  int refusal = 0;
  if (stream.request.method != "CONNECT") {
    refusal = 405;
  } else if (!target.ok()) {
    refusal = 400;
  } else if (!on_request_) {
    refusal = 503;
  }
  if (refusal != 0) {
    // Failing to queue a response leaves nghttp2 to reset the stream when the connection ends;
    // nothing better can be done for a stream nobody else knows.
    submitResponse(stream, refusal,
                   refusal == 405 ? HboneHeaders{{"allow", "CONNECT"}} : HboneHeaders{})
        .IgnoreError();
    return;
  }
  stream.visible = true;
  HboneRequest request = std::move(stream.request);
  stream.request = {};
  request.target = *target;
  on_request_(stream.id, request);
}

absl::Status HboneServerSession::respond(int32_t id, int status, const HboneHeaders& headers) {
  AMBIT_RETURN_IF_ERROR(HboneSession::status());
  Stream* stream = find(id);
  if (stream == nullptr || !stream->visible) {
    return absl::NotFoundError(absl::StrCat("hbone: stream ", id, " is not open"));
  }
  if (stream->can_send || stream->reset_after_response) {
    return absl::FailedPreconditionError(absl::StrCat("hbone: stream ", id, " was answered"));
  }
  if (status < 200 || status > 599) {
    return absl::InvalidArgumentError(
        absl::StrCat("hbone: status ", status, " cannot answer a CONNECT"));
  }
  return submitResponse(*stream, status, headers);
}

absl::Status HboneServerSession::submitResponse(Stream& stream, int status,
                                                const HboneHeaders& headers) {
  const std::string status_text = std::to_string(status);
  std::vector<nghttp2_nv> nva = {field(":status", status_text)};
  AMBIT_RETURN_IF_ERROR(appendHeaders(headers, nva));
  const bool tunnel = status >= 200 && status < 300;
  int rv = 0;
  if (tunnel) {
    const nghttp2_data_provider provider = dataProvider(stream);
    rv = nghttp2_submit_response(session_, stream.id, nva.data(), nva.size(), &provider);
  } else {
    rv = nghttp2_submit_response(session_, stream.id, nva.data(), nva.size(), nullptr);
  }
  if (rv != 0) {
    return absl::InternalError(
        absl::StrCat("hbone: respond on stream ", stream.id, ": ", nghttp2_strerror(rv)));
  }
  stream.can_send = tunnel;
  stream.reset_after_response = !tunnel;
  return absl::OkStatus();
}

}  // namespace ambit::hbone
