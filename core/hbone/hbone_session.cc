#include "core/hbone/hbone_session.h"

#include <algorithm>
#include <array>

namespace ambit::hbone {

namespace {

constexpr size_t kOutputChunk = 128 << 10;

absl::Status recvError(ssize_t rv) {
  switch (rv) {
    case NGHTTP2_ERR_BAD_CLIENT_MAGIC:
      return absl::InvalidArgumentError(
          "hbone: the peer did not open with the HTTP/2 connection preface (an HTTP/1.1 client, "
          "or bytes that are not HTTP/2)");
    case NGHTTP2_ERR_FLOODED:
      return absl::ResourceExhaustedError(
          "hbone: the peer flooded the connection with frames that need answers it does not read");
    case NGHTTP2_ERR_NOMEM:
      return absl::ResourceExhaustedError("hbone: out of memory");
    case NGHTTP2_ERR_CALLBACK_FAILURE:
      return absl::InternalError("hbone: a session callback failed");
    default:
      return absl::InvalidArgumentError(absl::StrCat("hbone: peer sent a malformed frame: ",
                                                     nghttp2_strerror(static_cast<int>(rv))));
  }
}

}  // namespace

const std::string* HboneRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return &value;
  }
  return nullptr;
}

HboneSession::HboneSession(Role role, const HboneOptions& options)
    : options_(options), role_(role), out_(kOutputChunk) {}

HboneSession::~HboneSession() { nghttp2_session_del(session_); }

absl::Status HboneSession::feed(std::span<const uint8_t> bytes) {
  if (!failed_.ok()) return failed_;
  if (receiving_ || sending_) {
    return absl::FailedPreconditionError("hbone: feed() called from a session callback");
  }
  receiving_ = true;
  const ssize_t rv = nghttp2_session_mem_recv(session_, bytes.data(), bytes.size());
  receiving_ = false;
  if (rv < 0) {
    fail(recvError(rv));
    return failed_;
  }
  // Serializing now is what reveals a connection error nghttp2 found in the input: it answers
  // with a GOAWAY rather than an error code.
  flush();
  deliverEvents();
  return failed_;
}

std::span<const uint8_t> HboneSession::pendingOutput() {
  flush();
  deliverEvents();
  return out_.front();
}

void HboneSession::consumeOutput(size_t n) { out_.consume(std::min(n, out_.size())); }

bool HboneSession::wantsWrite() const {
  return out_.size() > 0 || (failed_.ok() && nghttp2_session_want_write(session_) != 0);
}

bool HboneSession::wantsClose() const {
  if (out_.size() > 0) return false;
  return !failed_.ok() ||
         (nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0);
}

void HboneSession::fail(absl::Status status) {
  if (failed_.ok()) failed_ = std::move(status);
}

void HboneSession::flush() {
  // After a failure nothing more is serialized; the GOAWAY that reported a peer's protocol error
  // was serialized by the same loop that noticed it.
  if (receiving_ || sending_ || !failed_.ok()) return;
  sending_ = true;
  for (;;) {
    const uint8_t* data = nullptr;
    const ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      fail(absl::InternalError(
          absl::StrCat("hbone: serializing frames: ", nghttp2_strerror(static_cast<int>(n)))));
      break;
    }
    if (n == 0) break;
    out_.append(data, static_cast<size_t>(n));
  }
  sending_ = false;
}

void HboneSession::deliverEvents() {
  if (delivering_ || receiving_ || sending_) return;
  delivering_ = true;
  while (!events_.empty() && failed_.ok()) {
    std::vector<Event> events;
    events.swap(events_);
    for (const Event& event : events) {
      if (event.close) {
        if (handlers_.on_close) handlers_.on_close(event.stream, event.error_code);
      } else if (find(event.stream) != nullptr && handlers_.on_writable) {
        handlers_.on_writable(event.stream);
      }
    }
  }
  delivering_ = false;
}

void HboneSession::closeStream(int32_t id, uint32_t error_code) {
  const auto it = streams_.find(id);
  if (it == streams_.end()) return;
  const std::unique_ptr<Stream> stream = std::move(it->second);
  streams_.erase(it);
  if (stream->unconsumed > 0) nghttp2_session_consume_connection(session_, stream->unconsumed);
  if (!stream->visible || !failed_.ok()) return;
  if (sending_) {
    events_.push_back({true, id, error_code});
  } else if (handlers_.on_close) {
    handlers_.on_close(id, error_code);
  }
}

void HboneSession::resume(Stream& stream) {
  if (!stream.deferred) return;
  stream.deferred = false;
  nghttp2_session_resume_data(session_, stream.id);
}

HboneSession::Stream* HboneSession::find(int32_t id) {
  const auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second.get();
}

const HboneSession::Stream* HboneSession::find(int32_t id) const {
  const auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second.get();
}

HboneSession::Stream& HboneSession::addStream(int32_t id, std::unique_ptr<Stream> stream) {
  stream->id = id;
  Stream& out = *stream;
  streams_[id] = std::move(stream);
  return out;
}

nghttp2_nv HboneSession::field(std::string_view name, std::string_view value) {
  // NGHTTP2_NV_FLAG_NONE: nghttp2 copies both strings when the frame is submitted.
  return {reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
          NGHTTP2_NV_FLAG_NONE};
}

absl::Status HboneSession::appendHeaders(const HboneHeaders& headers,
                                         std::vector<nghttp2_nv>& nva) {
  static constexpr std::array<std::string_view, 6> kConnectionSpecific = {
      "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te"};
  for (const auto& [name, value] : headers) {
    const auto* raw_name = reinterpret_cast<const uint8_t*>(name.data());
    const auto* raw_value = reinterpret_cast<const uint8_t*>(value.data());
    if (name.empty() || name.front() == ':' ||
        nghttp2_check_header_name(raw_name, name.size()) == 0 ||
        std::find(kConnectionSpecific.begin(), kConnectionSpecific.end(), name) !=
            kConnectionSpecific.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("hbone: \"", name, "\" is not a header field name HTTP/2 allows here"));
    }
    if (nghttp2_check_header_value(raw_value, value.size()) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("hbone: the value of header field \"", name, "\" is not valid"));
    }
    nva.push_back(field(name, value));
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> HboneSession::send(int32_t id, std::span<const uint8_t> bytes) {
  AMBIT_RETURN_IF_ERROR(status());
  Stream* stream = find(id);
  if (stream == nullptr || !stream->visible) {
    return absl::NotFoundError(absl::StrCat("hbone: stream ", id, " is not open"));
  }
  if (!stream->can_send) {
    return absl::FailedPreconditionError(
        absl::StrCat("hbone: stream ", id, " has no open tunnel to send on"));
  }
  if (stream->end_requested || stream->reset_requested) {
    return absl::FailedPreconditionError(absl::StrCat("hbone: stream ", id, " was ended"));
  }
  size_t accepted = 0;
  if (stream->queue.empty() && !receiving_ && !sending_ &&
      out_.size() < options_.output_high_water) {
    // Frame straight from the caller's bytes: one copy, into the output.
    stream->direct = bytes;
    resume(*stream);
    flush();
    stream = find(id);
    if (stream == nullptr) {
      return absl::NotFoundError(absl::StrCat("hbone: stream ", id, " closed while sending"));
    }
    accepted = bytes.size() - stream->direct.size();
    bytes = stream->direct;
    stream->direct = {};
  }
  const size_t room =
      options_.stream_send_buffer - std::min(options_.stream_send_buffer, stream->queue.size());
  const size_t take = std::min(room, bytes.size());
  stream->queue.append(bytes.data(), take);
  accepted += take;
  if (take < bytes.size()) stream->owes_writable = true;
  if (take > 0) resume(*stream);
  return accepted;
}

size_t HboneSession::queuedBytes(int32_t id) const {
  const Stream* stream = find(id);
  return stream == nullptr ? 0 : stream->queue.size();
}

absl::Status HboneSession::endStream(int32_t id) {
  AMBIT_RETURN_IF_ERROR(status());
  Stream* stream = find(id);
  if (stream == nullptr || !stream->visible) {
    return absl::NotFoundError(absl::StrCat("hbone: stream ", id, " is not open"));
  }
  if (!stream->can_send || stream->reset_requested) {
    return absl::FailedPreconditionError(
        absl::StrCat("hbone: stream ", id, " has no open tunnel to end"));
  }
  if (stream->end_requested) return absl::OkStatus();
  stream->end_requested = true;
  resume(*stream);
  return absl::OkStatus();
}

absl::Status HboneSession::reset(int32_t id, uint32_t error_code) {
  AMBIT_RETURN_IF_ERROR(status());
  Stream* stream = find(id);
  if (stream == nullptr || !stream->visible) {
    return absl::NotFoundError(absl::StrCat("hbone: stream ", id, " is not open"));
  }
  stream->reset_requested = true;
  const int rv = nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, error_code);
  if (rv != 0) {
    return absl::InternalError(
        absl::StrCat("hbone: reset stream ", id, ": ", nghttp2_strerror(rv)));
  }
  return absl::OkStatus();
}

absl::Status HboneSession::consumed(int32_t id, size_t n) {
  Stream* stream = find(id);
  if (stream == nullptr) return absl::OkStatus();  // credited back when it closed
  if (n > stream->unconsumed) {
    return absl::InvalidArgumentError(absl::StrCat("hbone: stream ", id, ": consumed ", n,
                                                   " bytes but only ", stream->unconsumed,
                                                   " were delivered"));
  }
  stream->unconsumed -= n;
  const int rv = nghttp2_session_consume(session_, id, n);
  if (rv != 0) {
    fail(absl::InternalError(absl::StrCat("hbone: consume: ", nghttp2_strerror(rv))));
    return failed_;
  }
  return absl::OkStatus();
}

void HboneSession::shutdown() {
  if (shutdown_) return;
  shutdown_ = true;
  goaway_last_stream_ = nghttp2_session_get_last_proc_stream_id(session_);
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, goaway_last_stream_, NGHTTP2_NO_ERROR, nullptr,
                        0);
  // Once serialized, the GOAWAY counts as sent and nghttp2 ignores new streams itself; streams
  // arriving before that are refused in onHeadersComplete.
  flush();
}

std::vector<int32_t> HboneSession::streamIds() const {
  std::vector<int32_t> ids;
  for (const auto& [id, stream] : streams_) {
    if (stream->visible) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace ambit::hbone