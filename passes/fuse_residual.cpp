#include "passes/fusion.h"

namespace bitgpt {

using namespace ir;
using namespace fusion_detail;

// out = x + W c becomes one matmul that adds each row into the residual as it is computed.
void fuse_residual(Graph& g) {
  for (int i = 0; i < static_cast<int>(g.ops.size()); ++i) {
    const Op& mm = g.ops[i];
    if (mm.kind != OpKind::MatMul || mm.accumulate) continue;
    const int a = sole_user(g, mm.outputs[0]);
    if (a < 0 || g.ops[a].kind != OpKind::Add) continue;
    const Op& add = g.ops[a];
    const ValueId residual = add.inputs[0] == mm.outputs[0] ? add.inputs[1] : add.inputs[0];
    if (producer(g, residual) > i) continue;  // must exist before the matmul
    Op fused = mm;
    fused.accumulate = true;
    fused.inputs = {residual, mm.inputs[0]};
    fused.outputs = add.outputs;
    fused.label = mm.label + "+residual";
    replace_group(g, {i, a}, fused);
    i = -1;  // indices moved: scan again
  }
}

}  // namespace bitgpt
