#include "codegen/layer_summary.h"

#include <fmt/format.h>

#include <set>

namespace bitgpt {

std::vector<LayerRow> layer_summary(const CompiledModel& c) {
  const ir::Graph& g = c.graph;
  const int64_t layers = g.arch.n_layers;
  std::vector<LayerRow> rows(static_cast<size_t>(layers + 2));
  rows[0].name = "embedding";
  for (int64_t l = 0; l < layers; ++l) rows[static_cast<size_t>(l + 1)].name = fmt::format("layer {}", l);
  rows.back().name = "head";
  const Constants& k = g.constants;
  rows[0].flash_bytes = k.tok_embeddings.flash_bytes() + (k.has_pos_embeddings ? k.pos_embeddings.flash_bytes() : 0) +
                        static_cast<int64_t>(8 * k.rope_freq_q40.size());
  std::set<int> counted_matrices, counted_norms;
  for (const Step& s : c.steps) {
    const ir::Op& op = g.ops[static_cast<size_t>(s.op)];
    LayerRow& row = op.layer >= 0 ? rows[static_cast<size_t>(op.layer + 1)] : s.op < g.next_stage_begin ? rows[0] : rows.back();
    row.steps += 1;
    for (int m : op.matrices()) {
      const LoweredMatrix& mat = k.matrices[static_cast<size_t>(m)];
      row.macs += int64_t{mat.rows} * mat.cols;
      // the tied classifier's codes are the embedding table's, counted there
      if (counted_matrices.insert(m).second && !c.matrices[static_cast<size_t>(m)].tied_to_embedding)
        row.flash_bytes += c.matrices[static_cast<size_t>(m)].data.flash_bytes();
    }
    if (op.norm >= 0 && counted_norms.insert(op.norm).second) row.flash_bytes += k.norms[static_cast<size_t>(op.norm)].flash_bytes();
    if (op.kind == ir::OpKind::Attention || op.kind == ir::OpKind::AttnScores || op.kind == ir::OpKind::AttnWeightedSum)
      row.macs += g.arch.n_heads * g.window * g.arch.head_dim * (op.kind == ir::OpKind::Attention ? 2 : 1);
    row.dot_instructions += s.estimated_instructions;
  }
  return rows;
}

double milliseconds_at(double instructions, double clock_mhz) { return clock_mhz > 0 ? instructions / (clock_mhz * 1000.0) : 0; }

}  // namespace bitgpt
