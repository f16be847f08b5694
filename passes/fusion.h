// Operator fusion passes. Each replaces a chain of reference operations by one fused
// kernel of bitgpt_fused.h computing the same integers, which removes the chain's
// intermediate buffers from the arena.
#pragma once

#include "ir/ir.h"

namespace bitgpt {

void fuse_norm_quantize(ir::Graph& g);  // Norm -> Quantize          => NormQuantize
void fuse_residual(ir::Graph& g);       // MatMul -> Add(residual)   => accumulating MatMul
void fuse_ffn(ir::Graph& g);            // MatMul -> Act (-> Mul with MatMul) => FfnUp
void fuse_attention(ir::Graph& g);      // AttnScores -> Softmax -> WeightedSum => Attention
void fuse_classifier(ir::Graph& g);     // MatMul -> Sample           => ClassifySample
void fuse_shared_input(ir::Graph& g);   // MatMuls of one input        => SharedMatMul

namespace fusion_detail {

// The single op reading value v, or -1 when v has zero or several readers.
int sole_user(const ir::Graph& g, ir::ValueId v);
// The op defining v, or -1.
int producer(const ir::Graph& g, ir::ValueId v);
// Replaces the ops `group` (indices) by `fused`, placed where the last of them stood;
// keeps next_stage_begin pointing at the same stage boundary.
void replace_group(ir::Graph& g, std::vector<int> group, ir::Op fused);

}  // namespace fusion_detail
}  // namespace bitgpt
