// The softmax weights' check, shared by avx2_steps_test.cpp and attention_avx512_test.cpp
// (each built for its instruction set), with SOFTMAX_SUITE naming the suite and
// SOFTMAX_REQUIRE() skipping it on a CPU without the instructions.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "runtime/bitgpt_ops.h"

namespace {

// The vector softmax weights (bg_attn_softmax_weights: AVX2's four 64-bit lanes, or
// AVX-512's eight) against bg_exp_neg_q16 one score at a time:
// every gap below 2^16 and every 13th up to 2^21 (past about 2^20 the weights are 0),
// gaps around the points where the exponent's whole part steps, random gaps, and the
// extremes (a gap past 2^31 - 1 is INT32_MIN's exp, 0), with counts that leave 0 to 7
// scores to the narrower steps and the scalar tail.
TEST(SOFTMAX_SUITE, EqualTheScalarExp) {
  SOFTMAX_REQUIRE();
  std::vector<uint32_t> gaps;
  for (uint32_t g = 0; g < (1u << 16); ++g) gaps.push_back(g);
  for (uint32_t g = 1u << 16; g < (1u << 21); g += 13) gaps.push_back(g);
  for (int n = 1; n <= 32; ++n)
    for (int d = -2; d <= 2; ++d) gaps.push_back(static_cast<uint32_t>(static_cast<double>(n) * 45426.09 + d));  // ln 2 in Q16
  std::mt19937 rng(3);
  for (int i = 0; i < 100000; ++i) gaps.push_back(static_cast<uint32_t>(rng()));
  for (uint32_t g : {0x7FFFFFFFu, 0x80000000u, 0x80000001u, 0xFFFFFFFFu}) gaps.push_back(g);
  for (int32_t m : {INT32_MAX, 0, 12345}) {
    for (size_t tail = 0; tail < 8; ++tail) {
      std::vector<int32_t> s, expected;
      int64_t expected_sum = 0;
      for (size_t i = 0; i + tail < gaps.size(); ++i) {
        const int32_t score = static_cast<int32_t>(static_cast<uint32_t>(m) - gaps[i]);
        if (score > m) continue;  // not a score of a row whose maximum is m
        s.push_back(score);
        expected.push_back(bg_exp_neg_q16(bg_below_max(score, m)));
        expected_sum += expected.back();
      }
      const int64_t sum = bg_attn_softmax_weights(s.data(), static_cast<int32_t>(s.size()), m);
      ASSERT_EQ(s, expected) << "max " << m;
      ASSERT_EQ(sum, expected_sum) << "max " << m;
    }
  }
}

}  // namespace
