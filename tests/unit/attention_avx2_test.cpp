// The attention value sum through the AVX2 kernel (this file is built with -mavx2, see
// tests/CMakeLists.txt); skipped on a CPU without AVX2.
#if defined(__x86_64__)
#define VALUE_SUM_SUITE ValueSumAvx2
#define VALUE_SUM_REQUIRE() \
  if (!__builtin_cpu_supports("avx2")) GTEST_SKIP() << "this CPU has no AVX2"
#include "attention_value_sum_test.h"
#endif

#if defined(__x86_64__)
#include <cstdint>
#include <random>
#include <vector>

namespace {

// The AVX2 softmax weights (four 64-bit lanes) against bg_exp_neg_q16 one score at a time:
// every gap below 2^20 (the weights that are not 0), gaps around the points where the
// exponent's whole part steps, random gaps, and the extremes (a gap past 2^31 - 1 is
// INT32_MIN's exp, 0), with counts that leave 0 to 3 scores to the scalar tail.
TEST(SoftmaxWeightsAvx2, EqualTheScalarExp) {
  if (!__builtin_cpu_supports("avx2")) GTEST_SKIP() << "this CPU has no AVX2";
  std::vector<uint32_t> gaps;
  for (uint32_t g = 0; g < (1u << 20); ++g) gaps.push_back(g);
  for (int n = 1; n <= 32; ++n)
    for (int d = -2; d <= 2; ++d) gaps.push_back(static_cast<uint32_t>(static_cast<double>(n) * 45426.09 + d));  // ln 2 in Q16
  std::mt19937 rng(3);
  for (int i = 0; i < 100000; ++i) gaps.push_back(static_cast<uint32_t>(rng()));
  for (uint32_t g : {0x7FFFFFFFu, 0x80000000u, 0x80000001u, 0xFFFFFFFFu}) gaps.push_back(g);
  for (int32_t m : {INT32_MAX, 0, 12345}) {
    for (size_t tail = 0; tail < 4; ++tail) {
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
#endif
