#include "passes/fusion.h"

namespace bitgpt {

using namespace ir;
using namespace fusion_detail;

// h = act(W1 c) [* (W3 c)] computed row by row: no W1 c or W3 c vectors.
void fuse_ffn(Graph& g) {
  for (int i = 0; i < static_cast<int>(g.ops.size()); ++i) {
    if (g.ops[i].kind != OpKind::Activation) continue;
    const int up = producer(g, g.ops[i].inputs[0]);
    if (up < 0 || g.ops[up].kind != OpKind::MatMul || g.ops[up].accumulate || sole_user(g, g.ops[i].inputs[0]) != i)
      continue;
    Op fused = g.ops[up];
    fused.kind = OpKind::FfnUp;
    fused.activation = g.ops[i].activation;
    fused.label = g.ops[up].label + "+act";
    fused.outputs = g.ops[i].outputs;
    std::vector<int> group = {up, i};
    const int mul = sole_user(g, g.ops[i].outputs[0]);
    if (mul >= 0 && g.ops[mul].kind == OpKind::Mul) {
      const ValueId other = g.ops[mul].inputs[0] == g.ops[i].outputs[0] ? g.ops[mul].inputs[1] : g.ops[mul].inputs[0];
      const int gate = producer(g, other);
      if (gate >= 0 && g.ops[gate].kind == OpKind::MatMul && !g.ops[gate].accumulate && sole_user(g, other) == mul &&
          g.ops[gate].inputs == g.ops[up].inputs) {
        fused.matrix2 = g.ops[gate].matrix;
        fused.outputs = g.ops[mul].outputs;
        fused.label = g.ops[up].label + "*" + g.ops[gate].label;
        group.push_back(gate);
        group.push_back(mul);
      }
    }
    replace_group(g, group, fused);
    i = -1;  // indices moved: scan again
  }
}

}  // namespace bitgpt
