// The reference interpreter: executes an IR graph op by op with the kernels of
// bitgpt_ops.h / bitgpt_fused.h, each value in its own buffer. It defines the exact
// integer semantics the emitted code must reproduce.
#pragma once

#include <vector>

#include "compiler/engine.h"
#include "compiler/ir.h"

namespace bitgpt {

class Interpreter : public Engine {
 public:
  explicit Interpreter(const ir::Graph& g);

  void reset(uint64_t seed) override;
  int feed(int32_t token) override;
  int32_t next(int32_t temperature_q16) override;
  uint64_t checksum() const override { return checksum_; }

  // The logits of the last `next` when the graph has a logits buffer (unfused classifier).
  std::vector<int32_t> last_logits() const;

 private:
  void run(int begin, int end);
  void execute(const ir::Op& op);
  int32_t* act(ir::ValueId v);
  int8_t* codes(ir::ValueId v);
  int32_t& amax(ir::ValueId v);
  void copy(ir::ValueId from, ir::ValueId to);
  bg_kv_layer kv(int layer);

  const ir::Graph& g_;
  bg_attn_shape attn_;
  std::vector<std::vector<int64_t>> storage_;
  std::vector<std::vector<uint8_t>> kv_k_, kv_v_;
  std::vector<std::vector<uint16_t>> kv_ks_, kv_vs_;
  int32_t position_ = 0, token_ = 0, chosen_ = -1, temperature_ = 0;
  uint64_t rng_ = 0, checksum_ = BG_FNV_OFFSET;
};

}  // namespace bitgpt
