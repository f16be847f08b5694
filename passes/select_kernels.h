// Kernel selection: which kernel runs each matrix product. A target- and budget-level
// decision (the *how*), kept apart from the graph's meaning: every kernel computes the
// same integers. The lookup kernel's tables and partial sums become scratch values of
// the op, so the arena planner places them and the SRAM fit counts them.
#pragma once

#include "compiler/ir.h"

namespace bitgpt {

struct KernelChoice {
  ir::Kernel kernel = ir::Kernel::Portable;
  int lut_chunk = 0;  // groups of 4 inputs per table chunk (Lut4)
};

// Applies `choice` to every product of ternary matrices (MatMul and FfnUp); other ops and
// other weight types keep the portable kernel.
void select_kernels(ir::Graph& g, const KernelChoice& choice);

// Whether some op reads matrix `matrix` with the lookup kernel (so it is emitted in that
// kernel's packing).
bool read_by_lut4(const ir::Graph& g, int matrix);

// The table chunk (groups of 4) of the op that reads `matrix` with the lookup kernel, or 0.
int lut4_chunk_of(const ir::Graph& g, int matrix);

// The most groups of 4 inputs any ternary product has: a chunk this large needs no
// partial sums.
int max_lut_groups(const ir::Graph& g);

}  // namespace bitgpt
