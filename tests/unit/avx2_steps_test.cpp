// The AVX2 forms of element-wise steps (this file is built with -mavx2, see
// tests/CMakeLists.txt) against the plain C definitions in runtime/bitgpt_numerics.h, one
// element at a time: the softmax weights and the FFN's SiLU gate. Skipped on a CPU without
// AVX2.
#if defined(__x86_64__)
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "runtime/bitgpt_ops.h"

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


// The gate's pieces: the rounded multiply for every shift it takes, over random and
// extreme operands; the sigmoid over every input near the table (|x| < 2^20) and random
// and extreme ones; and the whole gate on random dot products.
TEST(SiluGateAvx2, EqualsTheScalarGate) {
  if (!__builtin_cpu_supports("avx2")) GTEST_SKIP() << "this CPU has no AVX2";
  std::mt19937 rng(5);
  const auto lanes = [](__m256i v) {
    std::vector<int32_t> out(8);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out.data()), v);
    return out;
  };
  std::vector<int32_t> xs = {0, 1, -1, INT32_MAX, INT32_MIN, INT32_MIN + 1, 65535, -65536, 16 << 16, -(16 << 16), (16 << 16) - 1, 1 - (16 << 16)};
  for (int32_t x = -(1 << 20); x < (1 << 20); x += 7) xs.push_back(x);
  for (int i = 0; i < 20000; ++i) xs.push_back(static_cast<int32_t>(rng()));
  while (xs.size() % 8) xs.push_back(0);
  for (size_t i = 0; i < xs.size(); i += 8) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(&xs[i]));
    const std::vector<int32_t> sigma = lanes(bg_avx2_sigmoid_q16(x));
    for (int k = 0; k < 8; ++k) ASSERT_EQ(sigma[k], bg_sigmoid_q16(xs[i + k])) << "x " << xs[i + k];
    for (int shift = 2; shift <= 32; ++shift) {
      const int32_t m = static_cast<int32_t>(rng() >> (rng() % 32)) * (rng() & 1 ? 1 : -1);
      const std::vector<int32_t> got = lanes(bg_avx2_apply32_unchecked(x, _mm256_set1_epi32(m), shift));
      for (int k = 0; k < 8; ++k) ASSERT_EQ(got[k], bg_mult_apply32_unchecked(xs[i + k], bg_mult{m, shift})) << "x " << xs[i + k] << " m " << m << " shift " << shift;
    }
  }
  for (int trial = 0; trial < 2000; ++trial) {
    const bg_mult up{static_cast<int32_t>((1u << 22) + rng() % (1u << 22)), static_cast<int32_t>(20 + rng() % 13)};
    const bg_mult gate{static_cast<int32_t>((1u << 22) + rng() % (1u << 22)), static_cast<int32_t>(20 + rng() % 13)};
    int32_t d1[8], d3[8], h[8];
    for (int k = 0; k < 8; ++k) d1[k] = static_cast<int32_t>(rng() % 200001) - 100000, d3[k] = static_cast<int32_t>(rng() % 200001) - 100000;
    bg_avx2_silu_gate8(d1, d3, up, gate, h);
    for (int k = 0; k < 8; ++k) {
      const int32_t a = bg_mult_apply32_unchecked(d1[k], up), b = bg_mult_apply32_unchecked(d3[k], gate);
      const int32_t expected = bg_mult_apply32_unchecked(bg_mult_apply32_unchecked(a, bg_mult{bg_sigmoid_q16(a), 16}), bg_mult{b, 16});
      ASSERT_EQ(h[k], expected) << "d1 " << d1[k] << " d3 " << d3[k];
    }
  }
}

}  // namespace
#endif
