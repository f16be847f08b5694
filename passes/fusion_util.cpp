#include <algorithm>

#include "passes/fusion.h"

namespace bitgpt::fusion_detail {

using namespace ir;

int sole_user(const Graph& g, ValueId v) {
  const std::vector<int> u = g.users(v);
  return u.size() == 1 ? u[0] : -1;
}

int producer(const Graph& g, ValueId v) {
  for (size_t i = 0; i < g.ops.size(); ++i)
    for (ValueId out : g.ops[i].outputs)
      if (out == v) return static_cast<int>(i);
  return -1;
}

void replace_group(Graph& g, std::vector<int> group, Op fused) {
  std::sort(group.begin(), group.end());
  const int last = group.back();
  std::vector<Op> ops;
  int stage = -1;
  for (int i = 0; i < static_cast<int>(g.ops.size()); ++i) {
    if (i == g.next_stage_begin) stage = static_cast<int>(ops.size());
    if (i == last) ops.push_back(fused);
    else if (!std::binary_search(group.begin(), group.end(), i)) ops.push_back(std::move(g.ops[i]));
  }
  g.next_stage_begin = stage < 0 ? static_cast<int>(ops.size()) : stage;
  g.ops = std::move(ops);
}

}  // namespace bitgpt::fusion_detail
