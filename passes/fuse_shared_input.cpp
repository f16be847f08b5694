#include <algorithm>

#include "passes/fusion.h"

namespace bitgpt {

using namespace ir;
using fusion_detail::replace_group;

namespace {

bool plain_product(const Op& op) { return op.kind == OpKind::MatMul && !op.accumulate; }

// "l0.wq" and "l0.wk" -> "wk": a later member's label without the first one's prefix.
std::string short_label(const std::string& first, const std::string& label) {
  const size_t dot = first.rfind('.');
  const std::string prefix = dot == std::string::npos ? "" : first.substr(0, dot + 1);
  return label.starts_with(prefix) ? label.substr(prefix.size()) : label;
}

}  // namespace

// Two or three products of one input (the attention's wq, wk and wv) become one step:
// the lookup kernel then builds each chunk's tables once for all of them. A product
// joins only when its matrix has the first one's columns and dtype (a step runs on one
// kernel: an int8 wq beside ternary wk and wv would keep them off the tables), and when
// no op between it and the first reads the group's outputs or changes the input, so the
// step can stand where the last of them stood.
void fuse_shared_input(Graph& g) {
  for (int i = 0; i < static_cast<int>(g.ops.size()); ++i) {
    if (!plain_product(g.ops[i])) continue;
    const LoweredMatrix& first = g.constants.matrices[g.ops[i].matrix];
    const auto joins = [&](const Op& op) {
      if (!plain_product(op) || op.inputs != g.ops[i].inputs) return false;
      const LoweredMatrix& m = g.constants.matrices[op.matrix];
      return m.cols == first.cols && m.dtype == first.dtype;
    };
    std::vector<int> group = {i};
    std::vector<ValueId> outputs = g.ops[i].outputs;
    for (int j = i + 1; j < static_cast<int>(g.ops.size()) && group.size() < 3; ++j) {
      const Op& op = g.ops[j];
      if (j == g.next_stage_begin) break;  // a step runs within one stage
      if (joins(op)) {
        group.push_back(j);
        outputs.push_back(op.outputs[0]);
        continue;
      }
      const bool reads_group = std::ranges::any_of(op.inputs, [&](ValueId v) { return std::ranges::count(outputs, v) > 0; });
      const bool changes_input = !op.inputs.empty() && op.updates_first_input() && op.inputs[0] == g.ops[i].inputs[0];
      if (reads_group || changes_input) break;
    }
    if (group.size() < 2) continue;
    Op fused = g.ops[i];
    fused.kind = OpKind::SharedMatMul;
    fused.outputs = outputs;
    fused.matrix2 = g.ops[group[1]].matrix;
    fused.matrix3 = group.size() > 2 ? g.ops[group[2]].matrix : -1;
    for (size_t k = 1; k < group.size(); ++k) fused.label += "," + short_label(g.ops[i].label, g.ops[group[k]].label);
    replace_group(g, group, fused);
  }
}

}  // namespace bitgpt
