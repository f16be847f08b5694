// Fitting the SRAM budget: choose the attention window (KV-cache ring slots) and the
// KV-cache precision so that arena + KV cache + prompt buffer + runtime state + stack fit, or explain
// what does not fit and what would.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace bitgpt {

struct SramCost {
  int64_t arena = 0, kv_cache = 0, prompt = 0, state = 0, stack = 0;
  int64_t total() const { return arena + kv_cache + prompt + state + stack; }
};

struct FitRequest {
  int64_t budget = 0;
  int64_t max_window = 1;            // the model's training context
  std::optional<int> kv_bits;        // pinned by --kv-bits
  std::optional<int64_t> window;     // pinned by --window
};

struct FitResult {
  int64_t window = 0;
  int kv_bits = 8;
  SramCost cost;
  std::string reason;  // why this window and precision, for the report
};

// The SRAM cost of a configuration; must not decrease as the window grows.
using SramCostFn = std::function<SramCost(int64_t window, int kv_bits)>;

// Slots of int8 KV cache that are "enough": past this, a larger window is not worth
// quartering the precision of every cached key and value. It is model-dependent
// (bench/loss_vs_window.sh at 8 KiB): for the byte-level Austen model 8 bits at 18 slots
// beat 4 bits at 35 by 0.9%; for the 512-token one 4 bits at 35 win by 0.45%. 4-bit keys
// and values cost 0.35-1% at a given window. --kv-bits pins it.
constexpr int64_t kPreferInt8Window = 16;

// Throws Error with a breakdown when no configuration fits.
FitResult fit_sram(const FitRequest& req, const SramCostFn& cost);

std::string describe_cost(const SramCost& c);

}  // namespace bitgpt
