// Checks that a graph is well formed before and after transformation: every value is
// written once before it is read, operand sizes agree with the constants, and the
// stage boundary is in range. A failure is a compiler bug, reported with the op.
#pragma once

#include "ir/ir.h"

namespace bitgpt {

void validate_graph(const ir::Graph& g);

}  // namespace bitgpt
