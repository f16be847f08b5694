// Choosing a memory plan by measured model quality (--calibration TEXT): the KV cache's
// precision, the window and the kernel mix as one choice.
//
// The candidates are the plans the pipeline makes for every KV precision (8 and 4 bits,
// unless --kv-bits pins one) and kernel policy (the cost model's choice, and row kernels
// only, which keep every byte of SRAM for the window; unless --kernel pins one), each
// fitted to the same budgets; and the 4-bit cache at the 8-bit plan's window, which
// leaves the SRAM it saves to lookup tables. Each is interpreted on the calibration text (the reference
// program at its window and precision: the integers the firmware computes); the most
// accurate sets the bar, and the plan chosen is the fastest by the cost model's estimate
// of instructions among those whose loss is within max_increase percent of
// it (ties: the more accurate): dot products and attention (window x precision) by the
// target's cost figures. Without a calibration text the pipeline's own rule stands.
#pragma once

#include <string>
#include <vector>

#include "ir/model.h"
#include "passes/pipeline.h"

namespace bitgpt {

struct PlanCandidate {
  CompileOptions options;
  int64_t window = 0;
  int kv_bits = 0;
  std::string kernels;                // "row kernel (smlad)", "lookup tables for 12 of 28 products", ...
  double estimated_instructions = 0;  // the cost model's, per token, in the dot products and attention
  double loss = 0;                    // nats per token on the calibration text
};

struct PlanChoice {
  std::vector<PlanCandidate> candidates;  // in the order measured
  size_t chosen = 0;
  CompiledModel program;                  // the chosen candidate's, as compiled for its measurement
  size_t most_accurate = 0;
  double max_increase_percent = 0;
  int64_t calibration_tokens = 0;
};

// Throws Error when the text is empty or no candidate fits. `what` names the text in
// messages (the option and file).
PlanChoice choose_plan_by_quality(const Model& model, const CompileOptions& base, const std::string& text, const std::string& what,
                                  double max_increase_percent);

// The candidates as a table, the chosen one marked.
std::string plan_choice_table(const PlanChoice& c);

}  // namespace bitgpt
