// The two byte buffers of an HBONE session: a ring per stream holding bytes accepted by send() and
// not yet framed, and the output queue of serialized frames, made of fixed chunks so that bytes
// handed to the socket writer never move while more output is appended behind them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>

namespace ambit::hbone {

class ByteRing {
 public:
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Appends `n` bytes; storage grows by doubling, so memory follows what is queued (the caller
  // bounds that).
  void append(const uint8_t* data, size_t n);
  // Copies the first `n` bytes (n <= size()) to `out` and drops them.
  void take(uint8_t* out, size_t n);

 private:
  void grow(size_t needed);

  std::unique_ptr<uint8_t[]> data_;
  size_t capacity_ = 0;
  size_t head_ = 0;
  size_t size_ = 0;
};

class OutputQueue {
 public:
  explicit OutputQueue(size_t chunk_size) : chunk_size_(chunk_size) {}

  size_t size() const { return size_; }
  void append(const uint8_t* data, size_t n);
  void appendZeros(size_t n);
  // Moves the first `n` bytes of `ring` (n <= ring.size()) here.
  void appendFromRing(ByteRing& ring, size_t n);
  // The unsent bytes of the oldest chunk; they stay valid and in place until consumed, whatever
  // is appended meanwhile.
  std::span<const uint8_t> front() const;
  // Drops the first `n` bytes (n <= size()).
  void consume(size_t n);

 private:
  struct Chunk {
    std::unique_ptr<uint8_t[]> data;
    size_t size = 0;
    size_t read = 0;
  };
  uint8_t* reserveTail(size_t& room);

  size_t chunk_size_;
  size_t size_ = 0;
  std::deque<Chunk> chunks_;
  std::unique_ptr<uint8_t[]> spare_;  // one recycled chunk, so steady traffic does not allocate
};

}  // namespace ambit::hbone
