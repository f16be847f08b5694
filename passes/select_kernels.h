// Kernel selection: which kernel runs each matrix product. A target- and budget-level
// decision (the *how*), kept apart from the graph's meaning: every kernel computes the
// same integers. The lookup kernel's tables and partial sums become scratch values of
// the op, so the arena planner places them and the SRAM fit counts them.
#pragma once

#include <vector>

#include "ir/ir.h"

namespace bitgpt {

// Row: the program's row kernel (the search does not tell them apart: they differ only
// in cost, which DotCosts::row_per_weight states); Lookup: tables in chunks of lut_chunk.
struct KernelChoice {
  bool lookup = false;
  int lut_chunk = 0;  // groups of 4 inputs per table chunk (lookup)
};

// The chunk a lookup product op runs when `requested` groups of 4 inputs a chunk are
// asked for: no more than its groups, and no more than a chunk whose table offsets fit
// the halfword indices (BG_LUT_MAX_CHUNK). What set_kernel gives the op, and what the
// cost model charges for.
int lut_chunk_for(const ir::Graph& g, const ir::Op& op, int requested);

// The ops that multiply ternary matrices (MatMul, FfnUp): the ones a kernel choice
// applies to. Other ops and weight types keep the row kernel.
std::vector<int> ternary_products(const ir::Graph& g);

// Runs ternary product g.ops[op] with `choice` (a row choice: `row_kernel`), replacing
// the scratch an earlier choice gave it (the old values stay in g.values, unread).
void set_kernel(ir::Graph& g, int op, const KernelChoice& choice, ir::Kernel row_kernel = ir::Kernel::PlainC);

// Applies `choice` to every ternary product.
void select_kernels(ir::Graph& g, const KernelChoice& choice, ir::Kernel row_kernel = ir::Kernel::PlainC);

// Every op that reads a matrix and is not a lookup product runs on `row_kernel`.
void set_row_kernel(ir::Graph& g, ir::Kernel row_kernel);

// Where a lookup op keeps its per-row partial sums between chunks: none (one chunk), in
// its output (one int32 per row: the output is written row by row after the last chunk),
// in its output as two int16 per row (a gated FFN's w1 and w3 sums, exact for cols <=
// 258), or in scratch of its own (an accumulating product, whose output is the residual).
enum class LutPartials { None, InOutput, PairedInOutput, Scratch };
LutPartials lut_partials(const ir::Graph& g, const ir::Op& op);

// Whether some op reads matrix `matrix` with the lookup kernel (so it is emitted in that
// kernel's packing).
bool read_by_lut4(const ir::Graph& g, int matrix);

// The table chunk (groups of 4) of the op that reads `matrix` with the lookup kernel, or 0.
int lut4_chunk_of(const ir::Graph& g, int matrix);

// The most groups of 4 inputs any ternary product has: a chunk this large needs no
// partial sums.
int max_lut_groups(const ir::Graph& g);

}  // namespace bitgpt
