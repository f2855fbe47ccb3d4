#include "core/hbone/buffers.h"

#include <algorithm>
#include <cstring>

namespace ambit::hbone {

namespace {
constexpr size_t kMinRingCapacity = 16 * 1024;
}  // namespace

void ByteRing::grow(size_t needed) {
  size_t capacity = std::max(capacity_ * 2, kMinRingCapacity);
  while (capacity < needed) capacity *= 2;
  auto data = std::make_unique<uint8_t[]>(capacity);
  const size_t size = size_;
  take(data.get(), size);
  data_ = std::move(data);
  capacity_ = capacity;
  head_ = 0;
  size_ = size;
}

void ByteRing::append(const uint8_t* data, size_t n) {
  if (n == 0) return;
  if (size_ + n > capacity_) grow(size_ + n);
  const size_t tail = (head_ + size_) % capacity_;
  const size_t first = std::min(n, capacity_ - tail);
  std::memcpy(data_.get() + tail, data, first);
  std::memcpy(data_.get(), data + first, n - first);
  size_ += n;
}

void ByteRing::take(uint8_t* out, size_t n) {
  if (n == 0) return;
  const size_t first = std::min(n, capacity_ - head_);
  std::memcpy(out, data_.get() + head_, first);
  std::memcpy(out + first, data_.get(), n - first);
  head_ = (head_ + n) % capacity_;
  size_ -= n;
  if (size_ == 0) head_ = 0;
}

uint8_t* OutputQueue::reserveTail(size_t& room) {
  if (chunks_.empty() || chunks_.back().size == chunk_size_) {
    Chunk chunk;
    chunk.data = spare_ ? std::move(spare_) : std::make_unique<uint8_t[]>(chunk_size_);
    chunks_.push_back(std::move(chunk));
  }
  Chunk& tail = chunks_.back();
  room = chunk_size_ - tail.size;
  return tail.data.get() + tail.size;
}

void OutputQueue::append(const uint8_t* data, size_t n) {
  while (n > 0) {
    size_t room = 0;
    uint8_t* out = reserveTail(room);
    const size_t step = std::min(room, n);
    std::memcpy(out, data, step);
    chunks_.back().size += step;
    size_ += step;
    data += step;
    n -= step;
  }
}

void OutputQueue::appendZeros(size_t n) {
  while (n > 0) {
    size_t room = 0;
    uint8_t* out = reserveTail(room);
    const size_t step = std::min(room, n);
    std::memset(out, 0, step);
    chunks_.back().size += step;
    size_ += step;
    n -= step;
  }
}

void OutputQueue::appendFromRing(ByteRing& ring, size_t n) {
  while (n > 0) {
    size_t room = 0;
    uint8_t* out = reserveTail(room);
    const size_t step = std::min(room, n);
    ring.take(out, step);
    chunks_.back().size += step;
    size_ += step;
    n -= step;
  }
}

std::span<const uint8_t> OutputQueue::front() const {
  if (chunks_.empty()) return {};
  const Chunk& head = chunks_.front();
  return {head.data.get() + head.read, head.size - head.read};
}

void OutputQueue::consume(size_t n) {
  while (n > 0 && !chunks_.empty()) {
    Chunk& head = chunks_.front();
    const size_t step = std::min(n, head.size - head.read);
    head.read += step;
    size_ -= step;
    n -= step;
    if (head.read < head.size) break;
    if (chunks_.size() == 1) {
      head.read = head.size = 0;  // reuse in place: nothing is left that could point into it
    } else {
      spare_ = std::move(head.data);
      chunks_.pop_front();
    }
  }
}

}  // namespace ambit::hbone
