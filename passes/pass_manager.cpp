#include "passes/pass_manager.h"

#include "support/diagnostics.h"
#include "passes/fusion.h"

namespace bitgpt {

namespace {

struct Pass {
  PassInfo info;
  void (*run)(ir::Graph&);
};

const std::vector<Pass>& fusion_passes() {
  static const std::vector<Pass> passes = {
      {{"fuse-norm-quantize", "norm + activation quantisation without the normalised vector (an RMSNorm's over its dying input)"}, fuse_norm_quantize},
      {{"fuse-residual", "matmul adds into the residual stream"}, fuse_residual},
      {{"fuse-ffn", "gated FFN pair and activation row by row"}, fuse_ffn},
      {{"fuse-attention", "streaming softmax attention, no score buffer"}, fuse_attention},
      {{"fuse-classifier", "classifier + sampling, no logits buffer"}, fuse_classifier},
      {{"fuse-shared-input", "products of one input in one step (wq, wk, wv): lookup tables built once"}, fuse_shared_input},
  };
  return passes;
}

}  // namespace

const std::vector<PassInfo>& optimization_passes() {
  static const std::vector<PassInfo> all = [] {
    std::vector<PassInfo> v;
    for (const Pass& p : fusion_passes()) v.push_back(p.info);
    v.push_back({"inplace", "outputs reuse a dying input's buffer"});
    return v;
  }();
  return all;
}

void check_pass_names(const std::set<std::string>& names) {
  for (const std::string& n : names) {
    bool known = false;
    std::string list;
    for (const PassInfo& p : optimization_passes()) {
      known |= n == p.name;
      list += std::string(list.empty() ? "" : ", ") + p.name;
    }
    if (!known) throw Error("--disable-pass: unknown pass '" + n + "'; passes are " + list);
  }
}

void run_fusion_passes(ir::Graph& g, const std::set<std::string>& disabled) {
  check_pass_names(disabled);
  for (const Pass& p : fusion_passes())
    if (!disabled.count(p.info.name)) p.run(g);
}

}  // namespace bitgpt
