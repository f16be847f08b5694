#include "passes/liveness.h"

#include <algorithm>

namespace bitgpt {

using namespace ir;

std::vector<ValueId> no_aliasing(const Graph& g) {
  std::vector<ValueId> a(g.values.size());
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<ValueId>(i);
  return a;
}

Liveness compute_liveness(const Graph& g, const std::vector<ValueId>& alias) {
  Liveness lv;
  lv.buffer_of.assign(g.values.size(), -1);
  auto root = [&](ValueId v) {
    while (alias[v] != v) v = alias[v];
    return v;
  };
  auto touch = [&](ValueId v, int step) {
    const ValueId r = root(v);
    if (lv.buffer_of[r] < 0) {
      lv.buffer_of[r] = static_cast<int>(lv.buffers.size());
      Buffer b;
      b.name = g.values[r].name;
      b.bytes = g.values[r].bytes();
      b.alignment = g.values[r].alignment();
      b.first_step = b.last_step = step;
      lv.buffers.push_back(b);
    }
    Buffer& b = lv.buffers[lv.buffer_of[r]];
    b.first_step = std::min(b.first_step, step);
    b.last_step = std::max(b.last_step, step);
    b.bytes = std::max(b.bytes, g.values[v].bytes());
    if (std::find(b.values.begin(), b.values.end(), v) == b.values.end()) b.values.push_back(v);
    lv.buffer_of[v] = lv.buffer_of[r];
  };
  for (int i = 0; i < static_cast<int>(g.ops.size()); ++i) {
    const Op& op = g.ops[i];
    for (ValueId v : op.outputs) touch(v, i);
    for (ValueId v : op.inputs) touch(v, i);
    for (ValueId v : op.scratch) touch(v, i);
  }
  // `next` may be called again without a new `feed`: the hidden state outlives it.
  if (g.hidden != kNoValue && lv.buffer_of[g.hidden] >= 0)
    lv.buffers[lv.buffer_of[g.hidden]].last_step = static_cast<int>(g.ops.size()) - 1;
  return lv;
}

}  // namespace bitgpt
