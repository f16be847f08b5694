// Sequential little-endian reads from a file's bytes that name the file and the byte
// offset of anything missing or malformed (the binary checkpoint loaders' reader).
#pragma once

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "support/diagnostics.h"

namespace bitgpt {

class ByteReader {
 public:
  ByteReader(const std::string& path, const std::vector<uint8_t>& b, size_t at = 0) : path_(path), b_(b), at_(at) {}
  size_t offset() const { return at_; }
  const std::string& path() const { return path_; }
  size_t size() const { return b_.size(); }
  void seek(size_t at) { at_ = at; }
  void need(size_t n, const std::string& what) const {
    if (n > b_.size() || at_ > b_.size() - n)
      fail(path_, fmt::format("byte offset {}", at_), fmt::format("file ends before {} ({} bytes needed, {} left)", what, n, b_.size() - std::min(at_, b_.size())));
  }
  // An unsigned little-endian integer of `bytes` bytes.
  uint64_t unsigned_le(int bytes, const std::string& what) {
    need(static_cast<size_t>(bytes), what);
    uint64_t u = 0;
    for (int i = 0; i < bytes; ++i) u |= static_cast<uint64_t>(b_[at_ + static_cast<size_t>(i)]) << (8 * i);
    at_ += static_cast<size_t>(bytes);
    return u;
  }
  uint8_t u8(const std::string& what) { return static_cast<uint8_t>(unsigned_le(1, what)); }
  uint16_t u16(const std::string& what) { return static_cast<uint16_t>(unsigned_le(2, what)); }
  uint32_t u32(const std::string& what) { return static_cast<uint32_t>(unsigned_le(4, what)); }
  uint64_t u64(const std::string& what) { return unsigned_le(8, what); }
  int32_t i32(const std::string& what) { return static_cast<int32_t>(u32(what)); }
  int64_t i64(const std::string& what) { return static_cast<int64_t>(u64(what)); }
  float f32(const std::string& what) {
    const uint32_t i = u32(what);
    float f;
    std::memcpy(&f, &i, 4);
    if (!std::isfinite(f)) fail(path_, fmt::format("byte offset {}", at_ - 4), what + " is not finite");
    return f;
  }
  double f64(const std::string& what) {
    const uint64_t i = u64(what);
    double f;
    std::memcpy(&f, &i, 8);
    if (!std::isfinite(f)) fail(path_, fmt::format("byte offset {}", at_ - 8), what + " is not finite");
    return f;
  }
  std::vector<float> floats(int64_t n, const std::string& what) {
    need(static_cast<size_t>(4 * n), what);
    std::vector<float> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = f32(what);
    return v;
  }
  const uint8_t* bytes(size_t n, const std::string& what) {
    need(n, what);
    const uint8_t* p = b_.data() + at_;
    at_ += n;
    return p;
  }

 private:
  const std::string& path_;
  const std::vector<uint8_t>& b_;
  size_t at_;
};

}  // namespace bitgpt
