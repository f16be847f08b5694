// Attention's steps through the AVX-512 kernels (this file is built with
// -march=x86-64-v4 -mavx512vnni, see tests/CMakeLists.txt) against the scalar definitions
// one token at a time; skipped on a CPU without AVX-512 VNNI.
#if defined(__x86_64__)
#include <gtest/gtest.h>

#define VALUE_SUM_SUITE ValueSumAvx512
#define VALUE_SUM_REQUIRE()                                                                                                      \
  if (!__builtin_cpu_supports("avx512bw") || !__builtin_cpu_supports("avx512vl") || !__builtin_cpu_supports("avx512vnni")) \
  GTEST_SKIP() << "this CPU has no AVX-512 VNNI"
#include "attention_value_sum_test.h"

#define SOFTMAX_SUITE SoftmaxWeightsAvx512
#define SOFTMAX_REQUIRE()                                                                                                        \
  if (!__builtin_cpu_supports("avx512bw") || !__builtin_cpu_supports("avx512vl") || !__builtin_cpu_supports("avx512vnni")) \
  GTEST_SKIP() << "this CPU has no AVX-512 VNNI"
#include "softmax_weights_test.h"

#include <random>
#include <vector>

#include "runtime/bitgpt_ops.h"

namespace {

bool has_avx512_vnni() {
  return __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") &&
         __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq");
}

// bg_attn_scores (eight keys a step: VPDPBUSD dot products, the scale normalised in
// 64-bit lanes) against bg_attn_score token by token: head sizes of one step, less than
// one and with a masked tail; a ring window that wraps; key scales with zero, small and
// largest mantissas and every exponent, and products of mantissas whose rounding carries
// into a new bit; query multipliers whose shifts fall inside and
// outside [1, 62] (those lanes go through the scalar score); codes at their extremes.
TEST(AttentionAvx512, ScoresEqualTheScalarScores) {
  if (!has_avx512_vnni()) GTEST_SKIP() << "this CPU has no AVX-512 VNNI";
  std::mt19937 rng(41);
  std::uniform_int_distribution<int32_t> code(-127, 127), mant(0, 0xFFF), exponent(0, 15), m23(0, (1 << 23) - 1), shift(0, 90);
  for (int32_t head_dim : {64, 32, 80, 128})
    for (int trial = 0; trial < 300; ++trial) {
      const int32_t kv_heads = 2, window = 37, g = trial & 1;
      const bool extreme = trial % 7 == 0;
      std::vector<uint8_t> k(static_cast<size_t>(window) * kv_heads * head_dim), v(1);
      std::vector<uint16_t> k_scale(static_cast<size_t>(window) * kv_heads), v_scale(1);
      for (auto& b : k) b = static_cast<uint8_t>(extreme ? (rng() & 1 ? 127 : -127) : code(rng));
      for (auto& s : k_scale) {
        const int32_t kind = static_cast<int32_t>(rng() % 8);
        s = static_cast<uint16_t>(exponent(rng) << 12 | (kind == 0 ? 0 : kind == 1 ? 0xFFF : kind == 2 ? 31 : mant(rng)));
      }
      std::vector<int8_t> q8(head_dim);
      for (auto& q : q8) q = static_cast<int8_t>(extreme ? (rng() & 1 ? 127 : -127) : code(rng));
      const bg_kv_layer c{k.data(), v.data(), k_scale.data(), v_scale.data()};
      const bg_attn_shape a{kv_heads, kv_heads, head_dim, window, 8, bg_mult{}};
      // 1082401 * 31 = 2^25 - 1: the normalisation's rounding carries into a new bit
      const bg_mult qk{trial % 11 == 0 ? 0 : trial % 5 == 0 ? 1082401 : m23(rng), shift(rng)};
      const int32_t position = static_cast<int32_t>(rng() % (3 * window)), first = bg_attn_first(&a, position);
      std::vector<int32_t> scores(window, 0);
      const int32_t top = bg_attn_scores(&c, &a, g, first, position, q8.data(), qk, scores.data());
      int32_t expected_top = INT32_MIN;
      for (int32_t t = first; t <= position; ++t) {
        const int32_t s = bg_attn_score(&c, &a, g, t, q8.data(), qk);
        ASSERT_EQ(scores[t - first], s) << "head_dim " << head_dim << " token " << t << " qk " << qk.m << " >> " << qk.shift;
        if (s > expected_top) expected_top = s;
      }
      ASSERT_EQ(top, expected_top);
    }
}

// bg_attn_finish (eight accumulators a step) against its scalar element step: sums from 0
// to INT64_MIN and INT64_MAX, every value shift, weight sums that make the rounding shift
// fall inside and outside [1, 62] (those lanes go through the scalar step), a zero sum,
// and head sizes with a tail.
TEST(AttentionAvx512, FinishEqualsTheScalarFinish) {
  if (!has_avx512_vnni()) GTEST_SKIP() << "this CPU has no AVX-512 VNNI";
  std::mt19937_64 rng(43);
  for (int32_t head_dim : {8, 13, 64})
    for (int trial = 0; trial < 3000; ++trial) {
      const bg_attn_shape a{1, 1, head_dim, 4, trial & 1 ? 8 : 4, bg_mult{}};
      std::vector<int64_t> acc(head_dim);
      for (auto& v : acc) {
        const uint64_t kind = rng() % 8;
        v = kind == 0 ? 0 : kind == 1 ? INT64_MIN : kind == 2 ? INT64_MAX : static_cast<int64_t>(rng()) >> (rng() % 64);
      }
      const int32_t shift = static_cast<int32_t>(rng() % 16);
      const int64_t weight_sum = trial % 13 == 0 ? 0 : static_cast<int64_t>(rng() >> (24 + rng() % 40)) + 1;  // below 2^40
      std::vector<int32_t> out(head_dim);
      bg_attn_finish(&a, acc.data(), weight_sum, shift, out.data());
      const int64_t den = weight_sum * bg_kv_qmax(a.kv_bits);
      const bg_mult inv = bg_mult_ratio(1, den > 0 ? den : 1);
      for (int32_t i = 0; i < head_dim; ++i)
        ASSERT_EQ(out[i], bg_attn_finish_one(acc[i], shift, den, inv)) << "acc " << acc[i] << " shift " << shift << " sum " << weight_sum;
    }
}

}  // namespace
#endif
