// nghttp2's side of HboneSession: its C callbacks, forwarding to the session given as
// user_data, and the creation of the nghttp2 session with HBONE's settings.
#include <algorithm>

#include "core/hbone/hbone_session.h"

namespace ambit::hbone {

namespace {

constexpr uint32_t kMaxWindow = (1u << 31) - 1;

std::string_view text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

std::string goawayText(const nghttp2_goaway& goaway) {
  std::string out = nghttp2_http2_strerror(goaway.error_code);
  if (goaway.opaque_data_len > 0) {
    absl::StrAppend(&out, " (", std::string(text(goaway.opaque_data, goaway.opaque_data_len)), ")");
  }
  return out;
}

}  // namespace

struct HboneSession::Callbacks {
  static HboneSession& self(void* user_data) { return *static_cast<HboneSession*>(user_data); }

  static int beginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    HboneSession& s = self(user_data);
    if (s.role_ == Role::kServer && frame->hd.type == NGHTTP2_HEADERS &&
        frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      auto stream = std::make_unique<Stream>();
      s.addStream(frame->hd.stream_id, std::move(stream));
    }
    return 0;
  }

  static int header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                    size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                    void* user_data) {
    HboneSession& s = self(user_data);
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    Stream* stream = s.find(frame->hd.stream_id);
    // Trailers are no part of HBONE and are dropped.
    if (stream == nullptr || stream->headers_done) return 0;
    // RFC 9113 section 6.5.2 counts 32 bytes of overhead per field.
    stream->header_bytes += namelen + valuelen + 32;
    if (stream->header_bytes > s.options_.max_header_list_size) {
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // nghttp2 resets the stream
    }
    const std::string_view key = text(name, namelen);
    std::string val(text(value, valuelen));
    if (s.role_ == Role::kServer) {
      HboneRequest& r = stream->request;
      if (key == ":method") {
        r.method = std::move(val);
      } else if (key == ":authority") {
        r.authority = std::move(val);
      } else if (key == ":scheme") {
        r.scheme = std::move(val);
      } else if (key == ":path") {
        r.path = std::move(val);
      } else if (key == ":protocol") {
        r.protocol = std::move(val);
      } else if (!key.starts_with(':')) {
        r.headers.emplace_back(std::string(key), std::move(val));
      }
    } else if (key == ":status") {
      stream->status = 0;
      for (const char c : val) stream->status = stream->status * 10 + (c - '0');  // 3 digits
    } else if (!key.starts_with(':')) {
      stream->headers.emplace_back(std::string(key), std::move(val));
    }
    return 0;
  }

  static int frameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    HboneSession& s = self(user_data);
    const int32_t id = frame->hd.stream_id;
    const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    if (!s.failed_.ok()) return 0;  // no callbacks after an error
    switch (frame->hd.type) {
      case NGHTTP2_HEADERS:
        if (Stream* stream = s.find(id); stream != nullptr && !stream->headers_done) {
          s.onHeadersComplete(*stream);
        }
        break;
      case NGHTTP2_DATA:
        break;
      case NGHTTP2_GOAWAY:
        if (frame->goaway.error_code != NGHTTP2_NO_ERROR) {
          s.fail(absl::UnavailableError(
              absl::StrCat("hbone: the peer closed the connection: ", goawayText(frame->goaway))));
        }
        return 0;
      default:
        return 0;
    }
    if (end_stream) {
      const Stream* stream = s.find(id);
      if (stream != nullptr && stream->visible && s.handlers_.on_end_of_stream) {
        s.handlers_.on_end_of_stream(id);
      }
    }
    return 0;
  }

  static int dataChunk(nghttp2_session* session, uint8_t, int32_t id, const uint8_t* data,
                       size_t len, void* user_data) {
    HboneSession& s = self(user_data);
    Stream* stream = s.find(id);
    if (stream == nullptr || !stream->visible || !s.handlers_.on_data || !s.failed_.ok()) {
      // Nobody will acknowledge these bytes: give the window back at once.
      nghttp2_session_consume(session, id, len);
      return 0;
    }
    stream->unconsumed += len;
    s.handlers_.on_data(id, {data, len});
    return 0;
  }

  static int streamClose(nghttp2_session*, int32_t id, uint32_t error_code, void* user_data) {
    self(user_data).closeStream(id, error_code);
    return 0;
  }

  static int frameSend(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
    HboneSession& s = self(user_data);
    if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != NGHTTP2_NO_ERROR) {
      // nghttp2 ends the session this way when the peer breaks the protocol.
      s.fail(absl::InvalidArgumentError(
          absl::StrCat("hbone: peer sent a malformed frame: ", goawayText(frame->goaway))));
    } else if (frame->hd.type == NGHTTP2_HEADERS &&
               (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
      // A refusal is complete: tell a peer still sending its request to stop (RFC 9113 section
      // 8.1) and free the stream's concurrency slot at once. Submitting this earlier would cancel
      // the response itself.
      const Stream* stream = s.find(frame->hd.stream_id);
      if (stream != nullptr && stream->reset_after_response &&
          nghttp2_session_get_stream_remote_close(session, frame->hd.stream_id) == 0) {
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
                                  NGHTTP2_NO_ERROR);
      }
    }
    return 0;
  }

  static ssize_t readData(nghttp2_session*, int32_t, uint8_t*, size_t length, uint32_t* data_flags,
                          nghttp2_data_source* source, void* user_data) {
    HboneSession& s = self(user_data);
    Stream& stream = *static_cast<Stream*>(source->ptr);
    const size_t available = stream.queue.size() + stream.direct.size();
    if (available == 0) {
      if (stream.end_requested) {
        *data_flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_COPY;
        return 0;
      }
      stream.deferred = true;
      return NGHTTP2_ERR_DEFERRED;
    }
    if (s.out_.size() >= s.options_.output_high_water) return NGHTTP2_ERR_PAUSE;
    const size_t n = std::min(length, available);
    *data_flags |= NGHTTP2_DATA_FLAG_NO_COPY;
    if (n == available && stream.end_requested) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }

  static int sendData(nghttp2_session*, nghttp2_frame* frame, const uint8_t* framehd, size_t length,
                      nghttp2_data_source* source, void* user_data) {
    HboneSession& s = self(user_data);
    Stream& stream = *static_cast<Stream*>(source->ptr);
    s.out_.append(framehd, 9);
    const size_t padlen = frame->data.padlen;
    if (padlen > 0) {
      const uint8_t pad_length = static_cast<uint8_t>(padlen - 1);
      s.out_.append(&pad_length, 1);
    }
    // Queued bytes are older than send()'s argument, which is only framed in place when the
    // queue is empty.
    const size_t from_queue = std::min(length, stream.queue.size());
    s.out_.appendFromRing(stream.queue, from_queue);
    const size_t from_direct = length - from_queue;
    s.out_.append(stream.direct.data(), from_direct);
    stream.direct = stream.direct.subspan(from_direct);
    if (padlen > 1) s.out_.appendZeros(padlen - 1);
    if (stream.owes_writable && stream.queue.size() <= s.options_.stream_send_buffer / 2) {
      stream.owes_writable = false;
      s.events_.push_back({false, stream.id, 0});
    }
    return 0;
  }

  static ssize_t readLength(nghttp2_session*, uint8_t, int32_t, int32_t, int32_t,
                            uint32_t remote_max_frame_size, void* user_data) {
    // nghttp2 clamps the result to the flow-control windows itself.
    return std::min(self(user_data).options_.max_send_frame_size, remote_max_frame_size);
  }
};

absl::Status HboneSession::init() {
  if (options_.stream_window > kMaxWindow || options_.connection_window > kMaxWindow ||
      options_.connection_window < NGHTTP2_INITIAL_CONNECTION_WINDOW_SIZE) {
    return absl::InvalidArgumentError("hbone: receive windows must be 64 KiB - 1 .. 2 GiB - 1");
  }
  if (options_.max_frame_size < (1u << 14) || options_.max_frame_size > (1u << 24) - 1 ||
      options_.max_send_frame_size < (1u << 14)) {
    return absl::InvalidArgumentError("hbone: frame sizes must be 16 KiB .. 16 MiB - 1");
  }
  if (options_.output_high_water < (16u << 10) || options_.stream_send_buffer == 0) {
    return absl::InvalidArgumentError("hbone: output and send buffers are too small");
  }

  nghttp2_session_callbacks* callbacks = nullptr;
  if (nghttp2_session_callbacks_new(&callbacks) != 0) {
    return absl::ResourceExhaustedError("hbone: out of memory");
  }
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, &Callbacks::beginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, &Callbacks::header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &Callbacks::frameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &Callbacks::dataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &Callbacks::streamClose);
  nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, &Callbacks::frameSend);
  nghttp2_session_callbacks_set_send_data_callback(callbacks, &Callbacks::sendData);
  nghttp2_session_callbacks_set_data_source_read_length_callback(callbacks, &Callbacks::readLength);

  nghttp2_option* option = nullptr;
  if (nghttp2_option_new(&option) != 0) {
    nghttp2_session_callbacks_del(callbacks);
    return absl::ResourceExhaustedError("hbone: out of memory");
  }
  // The caller acknowledges received bytes (consumed()), so a reader that stops reading stops
  // the peer instead of growing our memory.
  nghttp2_option_set_no_auto_window_update(option, 1);
  if (role_ == Role::kClient) {
    nghttp2_option_set_peer_max_concurrent_streams(option,
                                                   options_.assumed_peer_max_concurrent_streams);
  }
  const int rv = role_ == Role::kServer
                     ? nghttp2_session_server_new2(&session_, callbacks, this, option)
                     : nghttp2_session_client_new2(&session_, callbacks, this, option);
  nghttp2_option_del(option);
  nghttp2_session_callbacks_del(callbacks);
  if (rv != 0) {
    return absl::ResourceExhaustedError(absl::StrCat("hbone: ", nghttp2_strerror(rv)));
  }

  std::vector<nghttp2_settings_entry> settings = {
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, options_.stream_window},
      {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, options_.max_frame_size},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, options_.max_header_list_size},
      // RFC 9218: no priority tree, so closed streams are not kept around for it.
      {NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1},
  };
  if (role_ == Role::kServer) {
    settings.push_back({NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, options_.max_concurrent_streams});
    if (options_.enable_connect_protocol) {
      settings.push_back({NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1});
    }
  } else {
    settings.push_back({NGHTTP2_SETTINGS_ENABLE_PUSH, 0});
  }
  int status =
      nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings.data(), settings.size());
  if (status == 0) {
    status = nghttp2_session_set_local_window_size(
        session_, NGHTTP2_FLAG_NONE, 0, static_cast<int32_t>(options_.connection_window));
  }
  if (status != 0) {
    return absl::InternalError(absl::StrCat("hbone: settings: ", nghttp2_strerror(status)));
  }
  return absl::OkStatus();
}

nghttp2_data_provider HboneSession::dataProvider(Stream& stream) {
  nghttp2_data_provider provider{};
  provider.source.ptr = &stream;
  provider.read_callback = &Callbacks::readData;
  return provider;
}

}  // namespace ambit::hbone
