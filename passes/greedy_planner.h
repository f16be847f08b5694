// Static arena placement by greedy first fit (the TFLite Micro approach): buffers in a
// chosen order (largest first, and a few other orders; the smallest result wins), each at
// the lowest offset where it overlaps no placed buffer live at the same time. Offsets are
// fixed at compile time; the emitted code does no allocation.
#pragma once

#include <cstdint>
#include <vector>

#include "passes/liveness.h"

namespace bitgpt {

struct ArenaPlan {
  std::vector<int64_t> offsets;  // per buffer
  int64_t bytes = 0;             // arena size
  int64_t lower_bound = 0;       // the most bytes live at any one step
};

ArenaPlan plan_arena_greedy(const std::vector<Buffer>& buffers);

// The largest sum of aligned sizes of buffers live at one step: no plan can be smaller.
int64_t arena_lower_bound(const std::vector<Buffer>& buffers);

int64_t align_up(int64_t v, int64_t a);

}  // namespace bitgpt
