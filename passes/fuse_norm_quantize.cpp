#include "passes/fusion.h"

namespace bitgpt {

using namespace ir;
using namespace fusion_detail;

namespace {

// Whether an op after `step` reads v.
bool read_after(const Graph& g, ValueId v, int step) {
  for (int user : g.users(v))
    if (user > step) return true;
  return false;
}

}  // namespace

// The amax of the normalised vector is needed before any element can be quantised. When
// the input is read again (the residual stream; or in the next stage, which may run twice
// on one hidden state) the normalised vector goes to a scratch buffer, live only at this
// step, so each element is computed once; otherwise the kernel may overwrite the input
// (the emitter decides from the plan) or compute each element twice. An RMSNorm is a
// NormQuantize from the lowering on (its own definition, bitgpt_fused.h), with a scratch
// for its gained vector that this pass drops where the input is not read again.
void fuse_norm_quantize(Graph& g) {
  for (int i = 0; i < static_cast<int>(g.ops.size()); ++i) {
    Op& op = g.ops[i];  // an RMSNorm's NormQuantize from the lowering: its scratch only where x is read again
    if (op.kind == OpKind::NormQuantize && !op.scratch.empty() && !read_after(g, op.inputs[0], i) && i < g.next_stage_begin) op.scratch.clear();
  }
  for (int i = 0; i < static_cast<int>(g.ops.size()); ++i) {
    if (g.ops[i].kind != OpKind::Norm) continue;
    const int q = sole_user(g, g.ops[i].outputs[0]);
    if (q < 0 || g.ops[q].kind != OpKind::Quantize) continue;
    Op fused = g.ops[i];
    fused.kind = OpKind::NormQuantize;
    fused.outputs = g.ops[q].outputs;
    if (read_after(g, fused.inputs[0], q) || i >= g.next_stage_begin) fused.scratch = {g.ops[i].outputs[0]};
    replace_group(g, {i, q}, fused);
    i = -1;  // indices moved: scan again
  }
}

}  // namespace bitgpt
