#include "passes/fusion.h"

namespace bitgpt {

using namespace ir;
using namespace fusion_detail;

void fuse_norm_quantize(Graph& g) {
  for (int i = 0; i < static_cast<int>(g.ops.size()); ++i) {
    if (g.ops[i].kind != OpKind::Norm) continue;
    const int q = sole_user(g, g.ops[i].outputs[0]);
    if (q < 0 || g.ops[q].kind != OpKind::Quantize) continue;
    Op fused = g.ops[i];
    fused.kind = OpKind::NormQuantize;
    fused.outputs = g.ops[q].outputs;
    replace_group(g, {i, q}, fused);
    i = -1;  // indices moved: scan again
  }
}

}  // namespace bitgpt
