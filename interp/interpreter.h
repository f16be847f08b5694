// The interpreter: executes a lowered program (passes/pipeline.h) step by step on an
// arena of exactly the planned size, at the planned offsets, with the kernels of
// bitgpt_ops.h / bitgpt_fused.h / bitgpt_lut.h and the matrices as packed for flash. It
// is what the emitted code does, on the host: a buffer the plan overlaps wrongly, a copy
// it forgets or a packing it gets wrong changes its results, which the reference program
// (every value its own buffer, plain C) then exposes. The row kernels of Arm targets
// (SMLAD, Helium) run as their plain C definition: the same integers by construction.
#pragma once

#include <vector>

#include "interp/engine.h"
#include "passes/pipeline.h"

namespace bitgpt {

class Interpreter : public Engine {
 public:
  explicit Interpreter(const CompiledModel& program);

  void reset(uint64_t seed) override;
  int feed(int32_t token) override;
  int32_t next(int32_t temperature_q16) override;
  uint64_t checksum() const override { return checksum_; }

  // The logits of the last `next` when the program has a logits buffer (unfused classifier).
  std::vector<int32_t> last_logits() const;

 private:
  void run(size_t begin, size_t end);
  void execute(const Step& step);
  uint8_t* at(const Operand& o) { return arena_bytes() + o.offset; }
  uint8_t* arena_bytes() { return reinterpret_cast<uint8_t*>(arena_.data()); }
  int32_t* act(const Operand& o) { return reinterpret_cast<int32_t*>(at(o)); }
  int32_t& amax(const Operand& o) { return *act(o); }
  int8_t* codes(const Operand& o) { return reinterpret_cast<int8_t*>(at(o)) + 4; }
  bg_kv_layer kv(int layer);
  bg_lut_scratch lut_scratch(const Step& step, const ir::Op& op);

  const CompiledModel& p_;
  const ir::Graph& g_;
  bg_attn_shape attn_;
  std::vector<bg_matrix> matrices_;  // views of the packed matrices
  std::vector<int64_t> arena_;       // the planned arena, 8-byte aligned
  std::vector<std::vector<uint8_t>> kv_k_, kv_v_;
  std::vector<std::vector<uint16_t>> kv_ks_, kv_vs_;
  int32_t position_ = 0, token_ = 0, chosen_ = -1, temperature_ = 0;
  uint64_t rng_ = 0, checksum_ = BG_FNV_OFFSET;
};

}  // namespace bitgpt
