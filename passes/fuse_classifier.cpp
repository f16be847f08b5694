#include "passes/fusion.h"

namespace bitgpt {

using namespace ir;
using namespace fusion_detail;

// Each logit is hashed and offered to the sampler as it is produced: no logits buffer.
void fuse_classifier(Graph& g) {
  for (int i = 0; i < static_cast<int>(g.ops.size()); ++i) {
    if (g.ops[i].kind != OpKind::MatMul || g.ops[i].accumulate) continue;
    const int s = sole_user(g, g.ops[i].outputs[0]);
    if (s < 0 || g.ops[s].kind != OpKind::Sample) continue;
    Op fused = g.ops[i];
    fused.kind = OpKind::ClassifySample;
    fused.label = "classify+sample";
    fused.outputs = {};
    replace_group(g, {i, s}, fused);
    i = -1;  // indices moved: scan again
  }
}

}  // namespace bitgpt
