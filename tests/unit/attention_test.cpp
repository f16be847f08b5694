// The attention kernel's weighted value sum against the products written out: 8- and
// 4-bit cached values, weights that fit 32 bits (the SMLAL paths) and weights that do not,
// divided by their shared power of two or not, even and odd head sizes; and the final
// division taking that power of two back exactly.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "runtime/bitgpt_ops.h"

#define VALUE_SUM_SUITE ValueSumPlainC
#include "attention_value_sum_test.h"

namespace {

TEST(AttentionKernel, WeightedValueSumsAreExact) {
  std::mt19937 rng(5);
  for (int32_t bits : {8, 4})
    for (int32_t head_dim : {1, 2, 7, 32, 33}) {
      const int32_t qmax = bits == 8 ? 127 : 7, row_bytes = bits == 8 ? head_dim : (head_dim + 1) / 2;
      std::uniform_int_distribution<int32_t> code(-qmax - (bits == 4 ? 1 : 0), qmax);  // a 4-bit field can read -8
      std::vector<int32_t> codes(head_dim);
      std::vector<uint8_t> row(row_bytes, 0);
      for (int32_t i = 0; i < head_dim; ++i) {
        codes[i] = code(rng);
        if (bits == 8) row[i] = static_cast<uint8_t>(codes[i]);
        else row[i / 2] = static_cast<uint8_t>(row[i / 2] | (codes[i] & 0xF) << (4 * (i % 2)));
      }
      for (uint16_t scale : {uint16_t{0x0001}, uint16_t{0x0FFF}, uint16_t{0x7FFF}, uint16_t{0xFFFF}}) {  // up to 0xFFF << 15
        uint16_t k_scale = 0, v_scale = scale;
        uint8_t key = 0;
        const bg_kv_layer c{&key, row.data(), &k_scale, &v_scale};
        const bg_attn_shape a{1, 1, head_dim, 1, bits, bg_mult{}};
        for (int32_t p : {1, 65536, 40000})
          for (int32_t shift = 0; shift <= (scale >> 12); ++shift) {  // weights divided by 2^shift
            std::vector<int64_t> acc(head_dim, 3);  // sums so far
            bg_attn_accumulate(&c, &a, 0, 0, p, shift, acc.data());
            const int64_t w = (static_cast<int64_t>(p) * bg_scale16_decode(scale)) >> shift;
            for (int32_t i = 0; i < head_dim; ++i)
              ASSERT_EQ(acc[i], 3 + w * codes[i]) << "bits " << bits << " head_dim " << head_dim << " w " << w << " element " << i;
          }
      }
    }
}

// bg_attn_finish on sums divided by 2^shift gives what it gives on the whole sums, across
// the 39-bit normalisation (sums below it, at it, far above it) and both cache widths.
TEST(AttentionKernel, FinishTakesTheSharedPowerOfTwoBack) {
  std::mt19937_64 rng(9);
  for (int32_t bits : {8, 4}) {
    const bg_attn_shape a{1, 1, 6, 1, bits, bg_mult{}};
    for (int32_t shift = 0; shift <= 15; ++shift)
      for (int top_bit : {3, 20, 38, 39, 45}) {
        std::vector<int64_t> acc(6), whole(6);
        for (int i = 0; i < 6; ++i) {
          const int64_t mag = static_cast<int64_t>(rng() >> (64 - top_bit)) | (int64_t{1} << (top_bit - 1));
          acc[i] = i % 2 ? -mag : mag;
          if (i == 5) acc[i] = 0;
          whole[i] = acc[i] * (int64_t{1} << shift);
        }
        for (int64_t weight_sum : {int64_t{1}, int64_t{65536}, int64_t{3} << 20}) {
          std::vector<int32_t> out(6), expected(6);
          bg_attn_finish(&a, acc.data(), weight_sum, shift, out.data());
          bg_attn_finish(&a, whole.data(), weight_sum, 0, expected.data());
          ASSERT_EQ(out, expected) << "bits " << bits << " shift " << shift << " top bit " << top_bit << " sum " << weight_sum;
        }
      }
  }
}

// bg_attn_finish takes one product and a constant shift (only the product's high word where
// the rounding shift is 33 or more) where a value is in [-2^39, 2^39) and
// the rounding shift allows it (bg_attn_finish_direct): element by element, the same
// integers as the general bg_attn_finish_one, on values of every magnitude around 2^39
// (both sides), shifts 0..15 and weight sums from 1 to 2^44.
TEST(AttentionKernel, DirectFinishIsTheGeneralOne) {
  std::mt19937_64 rng(41);
  const bg_attn_shape a{1, 1, 16, 1, 8, bg_mult{}};
  int direct = 0, high = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    const int32_t shift = static_cast<int32_t>(rng() % 16);
    const int64_t weight_sum = static_cast<int64_t>(1 + rng() % (uint64_t{1} << (1 + rng() % 44)));
    std::vector<int64_t> acc(16);
    for (auto& v : acc) {
      const int top_bit = 1 + static_cast<int>(rng() % 48);
      v = static_cast<int64_t>(rng() >> (64 - top_bit)) * (rng() & 1 ? -1 : 1);
    }
    acc[0] = (int64_t{1} << 39) - 1, acc[1] = -acc[0], acc[2] = int64_t{1} << 39, acc[3] = -acc[2], acc[4] = acc[3] - 1;  // the range's edges
    const int64_t den = weight_sum * 127;
    const bg_mult inv = bg_mult_ratio(1, den);
    direct += bg_attn_finish_direct_ok(shift, den, inv);
    high += bg_attn_finish_direct_ok(shift, den, inv) && inv.shift - shift >= 33;
    std::vector<int32_t> out(16), expected(16);
    bg_attn_finish(&a, acc.data(), weight_sum, shift, out.data());
    for (int i = 0; i < 16; ++i) expected[i] = bg_attn_finish_one(acc[i], shift, den, inv);
    ASSERT_EQ(out, expected) << "shift " << shift << " sum " << weight_sum;
  }
  EXPECT_GT(direct, 10000);
  EXPECT_GT(high, 5000);      // inv.shift - shift >= 33: the high word alone
  EXPECT_GT(direct - high, 1000);
}

// The shared power of two is the least exponent of the nonzero value scales of the tokens
// in the window (before it is full, the slots filled so far; after, every slot).
TEST(AttentionKernel, ValueShiftIsTheLeastExponentOfNonzeroScales) {
  std::vector<uint16_t> v_scale = {uint16_t{(7 << 12) | 5}, uint16_t{(3 << 12) | 0}, uint16_t{(4 << 12) | 0xFFF}, uint16_t{(9 << 12) | 1}};
  std::vector<uint16_t> k_scale(4, 0);
  std::vector<uint8_t> k(4 * 8), v(4 * 8);
  const bg_kv_layer c{k.data(), v.data(), k_scale.data(), v_scale.data()};
  const bg_attn_shape a{1, 1, 8, 4, 8, bg_mult{}};  // window 4, one KV head
  const auto shift_at = [&](int32_t position) { return bg_attn_value_shift(&c, &a, 0, bg_attn_first(&a, position), position); };
  EXPECT_EQ(shift_at(0), 7);
  EXPECT_EQ(shift_at(1), 7);  // the zero scale (exponent 3) does not count
  EXPECT_EQ(shift_at(2), 4);
  EXPECT_EQ(shift_at(3), 4);
  EXPECT_EQ(shift_at(9), 4);  // long past the window: every slot
  std::fill(v_scale.begin(), v_scale.end(), uint16_t{3 << 12});
  EXPECT_EQ(shift_at(9), 15);  // no nonzero scale: every weight is 0
}

}  // namespace
