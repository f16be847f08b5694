#include "passes/validate.h"

#include <fmt/format.h>

#include <algorithm>

#include "support/diagnostics.h"

namespace bitgpt {

using namespace ir;

namespace {

[[noreturn]] void bad(const Op& op, int i, const std::string& what) {
  throw Error(fmt::format("internal error: IR op {} ({} '{}'): {}", i, op_name(op.kind), op.label, what));
}

}  // namespace

void validate_graph(const Graph& g) {
  std::vector<int> written(g.values.size(), -1);
  if (g.next_stage_begin < 0 || g.next_stage_begin > static_cast<int>(g.ops.size()))
    throw Error("internal error: IR stage boundary out of range");
  for (int i = 0; i < static_cast<int>(g.ops.size()); ++i) {
    const Op& op = g.ops[i];
    auto check_id = [&](ValueId v) {
      if (v < 0 || v >= static_cast<int>(g.values.size())) bad(op, i, fmt::format("value id {} out of range", v));
    };
    for (ValueId v : op.inputs) {
      check_id(v);
      if (written[v] < 0) bad(op, i, "reads '" + g.values[v].name + "' before it is written");
    }
    for (ValueId v : op.outputs) {
      check_id(v);
      if (written[v] >= 0) bad(op, i, "writes '" + g.values[v].name + "' a second time");
      written[v] = i;
    }
    for (ValueId v : op.scratch) check_id(v);
    if (op.reads_matrix()) {
      if (op.matrix < 0 || op.matrix >= static_cast<int>(g.constants.matrices.size())) bad(op, i, "no weight matrix");
      const LoweredMatrix& m = g.constants.matrices[op.matrix];
      const ValueId codes = op.matrix_input();
      if (g.values[codes].type != ValueType::Q8 || g.values[codes].elements != m.cols)
        bad(op, i, fmt::format("input '{}' does not match the {} columns of {}", g.values[codes].name, m.cols, m.name));
      if (!op.outputs.empty() && g.values[op.outputs[0]].elements != m.rows)
        bad(op, i, fmt::format("output '{}' does not match the {} rows of {}", g.values[op.outputs[0]].name, m.rows, m.name));
      if (op.kind == OpKind::SharedMatMul) {  // an output per matrix, one input for all
        const std::vector<int> ms = op.matrices();
        const bool in_range = std::ranges::all_of(ms, [&](int k) { return k < static_cast<int>(g.constants.matrices.size()); });
        if (op.matrix2 < 0 || ms.size() != op.outputs.size() || op.accumulate || !in_range)
          bad(op, i, "a shared product needs two or three matrices in order, an output each, and stores them");
        for (size_t k = 1; k < ms.size(); ++k) {
          const LoweredMatrix& mk = g.constants.matrices[ms[k]];
          if (mk.cols != m.cols) bad(op, i, fmt::format("{} and {} differ in columns", m.name, mk.name));
          if (g.values[op.outputs[k]].elements != mk.rows)
            bad(op, i, fmt::format("output '{}' does not match the {} rows of {}", g.values[op.outputs[k]].name, mk.rows, mk.name));
        }
      } else if (op.matrix3 >= 0) {
        bad(op, i, "only a shared product has a third matrix");
      } else if (op.matrix2 >= 0 && g.constants.matrices[op.matrix2].rows != m.rows) {
        bad(op, i, "gate and up matrices differ in rows");
      }
    }
    if ((op.kind == OpKind::Norm || op.kind == OpKind::NormQuantize) &&
        (op.norm < 0 || g.constants.norms[op.norm].n != g.values[op.inputs[0]].elements))
      bad(op, i, "norm parameters do not match the input");
  }
  if (g.hidden == kNoValue || written[g.hidden] < 0 || written[g.hidden] >= g.next_stage_begin)
    throw Error("internal error: the hidden state is not produced by the feed stage");
}

}  // namespace bitgpt
