// What generation drives: the reference interpreter here, the emitted C API in the demo.
#pragma once

#include <cstdint>

namespace bitgpt {

enum FeedStatus { kFeedOk = 0, kFeedBadToken = -1, kFeedContextFull = -2 };

class Engine {
 public:
  virtual ~Engine() = default;
  // Forgets every token; seeds the sampler; zeroes the logits checksum.
  virtual void reset(uint64_t seed) = 0;
  // Runs the model on `token` at the next position (updates the KV cache).
  virtual int feed(int32_t token) = 0;
  // Logits for the current position, hashed into the checksum; returns the chosen token.
  virtual int32_t next(int32_t temperature_q16) = 0;
  virtual uint64_t checksum() const = 0;
};

}  // namespace bitgpt
