#include "passes/fusion.h"

namespace bitgpt {

using namespace ir;
using namespace fusion_detail;

// Scores, softmax and the weighted sum stream over the KV cache, one head at a time: the
// head's scores are kept (window int32 of scratch) between finding their maximum and
// weighing the values, instead of computing each twice.
void fuse_attention(Graph& g) {
  for (int i = 0; i < static_cast<int>(g.ops.size()); ++i) {
    if (g.ops[i].kind != OpKind::AttnScores) continue;
    const int sm = sole_user(g, g.ops[i].outputs[0]);
    if (sm < 0 || g.ops[sm].kind != OpKind::AttnSoftmax) continue;
    const int ws = sole_user(g, g.ops[sm].outputs[0]);
    if (ws < 0 || g.ops[ws].kind != OpKind::AttnWeightedSum) continue;
    Op fused = g.ops[i];
    fused.kind = OpKind::Attention;
    fused.label = "l" + std::to_string(fused.layer) + ".attention";
    fused.outputs = g.ops[ws].outputs;
    fused.scratch = {g.ops[i].scratch[0], g.ops[ws].scratch[0],
                     g.add_value("l" + std::to_string(fused.layer) + ".head_scores", ValueType::HeadScores, g.window)};
    replace_group(g, {i, sm, ws}, fused);
    i = -1;  // indices moved: scan again
  }
}

}  // namespace bitgpt
