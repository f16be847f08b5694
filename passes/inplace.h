// In-place reuse: an op's output takes the buffer of an input that dies at that op when
// the kernel allows it (elementwise ops, and ops that update their first input).
#pragma once

#include <vector>

#include "ir/ir.h"

namespace bitgpt {

// Returns the alias map for compute_liveness.
std::vector<ir::ValueId> plan_inplace(const ir::Graph& g);

}  // namespace bitgpt
