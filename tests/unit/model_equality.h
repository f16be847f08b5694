// Two loaded models hold the same weights: shapes, dtypes, codes, values and scales of
// every tensor, the tokenizer's pieces and start token (for the format round-trip tests).
#pragma once

#include <gtest/gtest.h>

#include "ir/model.h"

namespace bitgpt {

inline void expect_same_weights(const Model& a, const Model& b) {
  EXPECT_EQ(a.arch.d_model, b.arch.d_model);
  EXPECT_EQ(a.arch.n_kv_heads, b.arch.n_kv_heads);
  EXPECT_EQ(a.arch.sub_norm, b.arch.sub_norm);
  EXPECT_EQ(a.tokenizer.pieces, b.tokenizer.pieces);
  EXPECT_EQ(a.tokenizer.bos, b.tokenizer.bos);
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (const auto& [name, t] : a.tensors) {
    ASSERT_TRUE(b.has(name)) << name;
    const Tensor& u = b.tensor(name);
    EXPECT_EQ(t.dtype, u.dtype) << name;
    EXPECT_EQ(t.shape, u.shape) << name;
    EXPECT_EQ(t.codes, u.codes) << name;
    EXPECT_EQ(t.values, u.values) << name;
    if (t.dtype != WeightDType::F32) {
      EXPECT_EQ(t.scales, u.scales) << name;
    }
  }
}

}  // namespace bitgpt
