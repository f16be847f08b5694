// The plan per layer, as X-CUBE-AI's analyze or Vela's summary give it: what each layer
// stores in flash, how many multiply-accumulates a token costs there, the cost model's
// estimate of the instructions of its dot products, and the time that makes at a clock.
// Shared by the text report, the JSON and the HTML page.
#pragma once

#include <string>
#include <vector>

#include "passes/pipeline.h"

namespace bitgpt {

struct LayerRow {
  std::string name;        // "embedding" (token table, positions, RoPE), "layer N", "head" (final norm, classifier)
  int steps = 0;
  int64_t flash_bytes = 0;  // packed matrices, norms and tables this part reads
  int64_t macs = 0;         // multiply-accumulates per token: matrix products, and attention at a full window
  double dot_instructions = 0;  // the cost model's estimate for the dot products (ternary products only)
};

std::vector<LayerRow> layer_summary(const CompiledModel& c);

// Milliseconds per token for `instructions` at clock_mhz, at one instruction per cycle
// (QEMU counts instructions, not cycles); 0 without a clock.
double milliseconds_at(double instructions, double clock_mhz);

}  // namespace bitgpt
