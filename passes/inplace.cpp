#include "passes/inplace.h"

#include "passes/liveness.h"

namespace bitgpt {

using namespace ir;

namespace {

// Inputs (by position) whose buffer the output may take (OpTraits::reusable_inputs; an
// op that updates in place works on its first input).
std::vector<size_t> reusable_inputs(const Op& op) {
  if (op.updates_first_input()) return {0};
  std::vector<size_t> r;
  for (size_t k = 0; k < op.inputs.size(); ++k)
    if (op.traits().reusable_inputs >> k & 1) r.push_back(k);
  return r;
}

}  // namespace

std::vector<ValueId> plan_inplace(const Graph& g) {
  std::vector<ValueId> alias = no_aliasing(g);
  // last reader of every value, as the unaliased program has it
  std::vector<int> last_use(g.values.size(), -1);
  for (int i = 0; i < static_cast<int>(g.ops.size()); ++i)
    for (ValueId v : g.ops[i].inputs) last_use[v] = i;
  if (g.hidden != kNoValue) last_use[g.hidden] = static_cast<int>(g.ops.size());
  for (int i = 0; i < static_cast<int>(g.ops.size()); ++i) {
    const Op& op = g.ops[i];
    if (op.outputs.size() != 1) continue;
    const Value& out = g.values[op.outputs[0]];
    for (size_t k : reusable_inputs(op)) {
      const ValueId in = op.inputs[k];
      const Value& iv = g.values[in];
      if (last_use[in] != i || iv.type != out.type || iv.elements != out.elements) continue;
      alias[op.outputs[0]] = in;
      break;
    }
  }
  return alias;
}

}  // namespace bitgpt
