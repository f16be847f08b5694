// bg_attn_value_sum, the attention's weighted value sum over a window of cached tokens,
// against the products written out: windows shorter and longer than the AVX2 kernel's
// chunk of tokens, odd and even token counts, head sizes with and without a tail past a
// multiple of 16 or 32, value scales that make the weights need one, two or three 15-bit
// limbs, and codes and weights at their extremes. Included by attention_test.cpp (the
// plain C loop), attention_avx2_test.cpp (built with AVX2: the vector kernel) and
// attention_avx512_test.cpp (AVX-512 VNNI's), with VALUE_SUM_SUITE naming the suite.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "runtime/bitgpt_ops.h"

#ifndef VALUE_SUM_REQUIRE
#define VALUE_SUM_REQUIRE() (void)0
#endif

namespace {

// Scales: exponents all equal (the weights divided by 2^shift are then small: one limb),
// mixed within 0..7 (two limbs), or within 0..15 with the largest mantissa (three).
enum class Scales { Equal, Mixed, Extreme };

void check_value_sum(int32_t head_dim, int32_t window, int32_t position, Scales scales, bool extreme_codes, std::mt19937& rng) {
  const int32_t kv_heads = 2, g = 1;
  std::vector<uint8_t> k(1), v(static_cast<size_t>(window) * kv_heads * head_dim);
  std::vector<uint16_t> k_scale(1), v_scale(static_cast<size_t>(window) * kv_heads);
  std::uniform_int_distribution<int32_t> code(-127, 127), mant(0, 0xFFF), exponent(0, scales == Scales::Mixed ? 7 : 15), p(0, 65536);
  for (auto& b : v) b = static_cast<uint8_t>(extreme_codes ? (rng() & 1 ? 127 : -127) : code(rng));
  for (auto& s : v_scale) {
    const int32_t e = scales == Scales::Equal ? 9 : exponent(rng), m = scales == Scales::Extreme ? 0xFFF : mant(rng) % 8;
    s = static_cast<uint16_t>(e << 12 | m);
  }
  const bg_kv_layer c{k.data(), v.data(), k_scale.data(), v_scale.data()};
  const bg_attn_shape a{kv_heads, kv_heads, head_dim, window, 8, bg_mult{}};
  const int32_t first = bg_attn_first(&a, position), n = position - first + 1;
  std::vector<int32_t> weights(n);
  for (int32_t t = 0; t < n; ++t) weights[t] = extreme_codes ? 65536 : p(rng);
  const int32_t shift = bg_attn_value_shift(&c, &a, g, first, position);
  std::vector<int64_t> acc(head_dim, 99), expected(head_dim, 0);  // acc's old contents do not count
  for (int32_t t = first; t <= position; ++t) {
    const int32_t at = (t % window) * kv_heads + g;
    const int64_t w = (static_cast<int64_t>(weights[t - first]) * bg_scale16_decode(v_scale[at])) >> shift;
    for (int32_t i = 0; i < head_dim; ++i) expected[i] += w * static_cast<int8_t>(v[static_cast<size_t>(at) * head_dim + i]);
  }
  bg_attn_value_sum(&c, &a, g, first, position, weights.data(), shift, acc.data());
  ASSERT_EQ(acc, expected) << "head_dim " << head_dim << " window " << window << " position " << position << " scales "
                           << static_cast<int>(scales) << " shift " << shift;
}

TEST(VALUE_SUM_SUITE, WeightedValueSumOverTheWindowIsExact) {
  VALUE_SUM_REQUIRE();
  std::mt19937 rng(11);
  for (int32_t head_dim : {8, 16, 33, 48, 64})
    for (int32_t window : {1, 18, 129, 300})
      for (int32_t position : {0, 6, 127, 128, 129, 260, 611})
        for (Scales scales : {Scales::Equal, Scales::Mixed, Scales::Extreme})
          for (bool extreme_codes : {false, true}) check_value_sum(head_dim, window, position, scales, extreme_codes, rng);
}

}  // namespace
