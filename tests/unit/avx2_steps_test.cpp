// The AVX2 forms of element-wise steps (this file is built with -mavx2, see
// tests/CMakeLists.txt) against the plain C definitions, one element at a time: the
// softmax weights, the FFN's SiLU gate, RMSNorm's sum of squares and codes pass, the
// largest magnitude and the int8 quantisation. Skipped on a CPU without AVX2.
#if defined(__x86_64__)
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "runtime/bitgpt_fused.h"

namespace {


#define SOFTMAX_SUITE SoftmaxWeightsAvx2
#define SOFTMAX_REQUIRE() \
  if (!__builtin_cpu_supports("avx2")) GTEST_SKIP() << "this CPU has no AVX2"
#include "softmax_weights_test.h"

// The gate's pieces: the rounded multiply for every shift it takes, over random and
// extreme operands; the sigmoid over inputs across the table (|x| < 2^20, every 61st) and
// random and extreme ones; and the whole gate on random dot products.
TEST(SiluGateAvx2, EqualsTheScalarGate) {
  if (!__builtin_cpu_supports("avx2")) GTEST_SKIP() << "this CPU has no AVX2";
  std::mt19937 rng(5);
  const auto lanes = [](__m256i v) {
    std::vector<int32_t> out(8);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out.data()), v);
    return out;
  };
  std::vector<int32_t> xs = {0, 1, -1, INT32_MAX, INT32_MIN, INT32_MIN + 1, 65535, -65536, 16 << 16, -(16 << 16), (16 << 16) - 1, 1 - (16 << 16)};
  for (int32_t x = -(1 << 20); x < (1 << 20); x += 61) xs.push_back(x);
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

// RMSNorm and quantisation: random vectors at several magnitudes (up to the int32 extremes
// for the sum of squares, which wraps as the scalar one does), multipliers across the
// shifts each loop takes, the codes pass against bg_gain_q31 element by element, and
// bg_quantize_codes in both of its unchecked forms against the scalar one.
TEST(NormQuantizeAvx2, EqualTheScalarSteps) {
  if (!__builtin_cpu_supports("avx2")) GTEST_SKIP() << "this CPU has no AVX2";
  std::mt19937 rng(13);
  for (int trial = 0; trial < 3000; ++trial) {
    const int32_t n = 8 * (1 + static_cast<int32_t>(rng() % 64));
    const int bits = 1 + static_cast<int>(rng() % 31);
    std::vector<int32_t> x(n), g(n), y(n), y_ref(n);
    for (auto& v : x) v = static_cast<int32_t>(rng()) >> (32 - bits);
    if (trial % 50 == 0) x[0] = INT32_MIN, x[n - 1] = INT32_MAX;
    uint64_t ss = 0;
    for (int32_t v : x) ss += static_cast<uint64_t>(static_cast<int64_t>(v) * v);
    ASSERT_EQ(bg_avx2_sum_squares(x.data(), n), ss);
    // RMSNorm's codes pass (NormQuantize): x shifted up by e (modulo 2^32, as defined),
    // gains of either sign below 2^b shifted to just under 2^30, against bg_gain_q31 one
    // element at a time
    const int gain_bits = 1 + static_cast<int>(rng() % 30);
    for (auto& v : g) v = static_cast<int32_t>(rng() % (1u << gain_bits)) * (rng() % 2 ? -1 : 1);
    const int32_t b = 30 - gain_bits, e = static_cast<int32_t>(rng() % 31);
    const int32_t m = bg_avx2_rms_codes_pass(x.data(), g.data(), n, e, b, y.data());
    int32_t m_ref = 0;
    for (int32_t i = 0; i < n; ++i) y_ref[i] = bg_gain_q31(x[i], e, g[i], b), m_ref = std::max(m_ref, bg_abs32(y_ref[i]));
    ASSERT_EQ(y, y_ref) << "b " << b << " e " << e;
    ASSERT_EQ(m, m_ref);
    // quantisation of y, whose largest |value| is m
    if (m == 0 || n % 32) continue;
    const bg_mult inv = bg_mult_ratio(127, m);
    std::vector<int8_t> q(n), q_ref(n);
    bg_quantize_codes(y.data(), n, inv, m, q.data());
    for (int32_t i = 0; i < n; ++i) q_ref[i] = bg_quantize_one(y[i], inv, 127);
    ASSERT_EQ(q, q_ref) << "shift " << inv.shift;
  }
}

// bg_amax (eight lanes a step, then the tail) against bg_abs32 one value at a time: every
// length up to 40, values of every magnitude, INT32_MIN (capped at INT32_MAX) anywhere.
TEST(AmaxAvx2, EqualsTheLargestMagnitude) {
  if (!__builtin_cpu_supports("avx2")) GTEST_SKIP() << "this CPU has no AVX2";
  std::mt19937 rng(23);
  for (int trial = 0; trial < 20000; ++trial) {
    const int32_t n = trial % 41;
    std::vector<int32_t> y(n);
    for (auto& v : y) v = rng() % 17 == 0 ? INT32_MIN : static_cast<int32_t>(rng()) >> (rng() % 32);
    int32_t expected = 0;
    for (int32_t v : y) expected = std::max(expected, bg_abs32(v));
    ASSERT_EQ(bg_amax(y.data(), n), expected) << "n " << n;
  }
}

// A product's rows scaled, stored or added to the residual with int32 saturation, against
// bg_mult_apply32_unchecked and bg_sat32 one row at a time; residuals near both bounds.
TEST(ScaleRowsAvx2, EqualTheScalarScaling) {
  if (!__builtin_cpu_supports("avx2")) GTEST_SKIP() << "this CPU has no AVX2";
  std::mt19937 rng(21);
  for (int trial = 0; trial < 20000; ++trial) {
    const bg_mult k{static_cast<int32_t>((1u << 22) + rng() % (1u << 22)), static_cast<int32_t>(2 + rng() % 31)};
    int32_t dot[8], out[8], residual[8];
    for (int i = 0; i < 8; ++i) {
      dot[i] = static_cast<int32_t>(rng()) >> (rng() % 32);
      const int32_t near = rng() % 3 == 0 ? (rng() & 1 ? INT32_MAX : INT32_MIN) : 0;
      residual[i] = near - (near > 0 ? 1 : -1) * static_cast<int32_t>(rng() % 1000) + (near == 0 ? static_cast<int32_t>(rng()) : 0);
    }
    for (int32_t accumulate : {0, 1}) {
      std::copy(residual, residual + 8, out);
      bg_avx2_scale_rows8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(dot)), k, out, accumulate);
      for (int i = 0; i < 8; ++i) {
        const int32_t z = bg_mult_apply32_unchecked(dot[i], k);
        ASSERT_EQ(out[i], accumulate ? bg_sat32(static_cast<int64_t>(residual[i]) + z) : z) << "dot " << dot[i] << " residual " << residual[i];
      }
    }
  }
}

}  // namespace
#endif
