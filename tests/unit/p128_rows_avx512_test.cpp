// 128-weight blocks and int8 rows through the AVX-512 VNNI kernels, and the classifier's
// per-row scaling eight rows at once (this file is built with -march=x86-64-v4
// -mavx512vnni, see tests/CMakeLists.txt); skipped on a CPU without them.
#if defined(__x86_64__)
#define P128_SUITE P128RowsAvx512Vnni
#define P128_REQUIRE()                                                                                          \
  if (!__builtin_cpu_supports("avx512bw") || !__builtin_cpu_supports("avx512vl") || !__builtin_cpu_supports("avx512vnni")) \
  GTEST_SKIP() << "this CPU has no AVX-512 VNNI"
#include "p128_rows_test.h"
#include "runtime/bitgpt_fused.h"

namespace {

// Eight per-row multipliers applied at once (bg_avx512_scale_rows8, the classifier's
// logits) against bg_mult_apply32(dot, bg_row_mult_by(scale, amax's norm)) row by row: multipliers
// zero, negative and in their usual range, shifts inside and outside what the vector
// rounding takes (those lanes are left to the scalar step: only the exact lanes are
// compared), amax from 0 to INT32_MAX, and every dot product magnitude.
TEST(P128_SUITE, ScaledRowsEqualTheScalarScaling) {
  P128_REQUIRE();
  std::mt19937 rng(29);
  int exact_lanes = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    bg_mult scales[8];
    int32_t dot[8], out[8];
    for (int k = 0; k < 8; ++k) {
      const uint32_t kind = rng() % 10;
      scales[k] = bg_mult{kind == 0 ? 0 : kind == 1 ? -static_cast<int32_t>(rng() % (1u << 23)) : static_cast<int32_t>((1u << 22) + rng() % (1u << 22)),
                          static_cast<int32_t>(rng() % 100) - 10};
      dot[k] = static_cast<int32_t>(rng()) >> (rng() % 32);
    }
    const int32_t amax = trial % 17 == 0 ? 0 : trial % 19 == 0 ? INT32_MAX : static_cast<int32_t>(rng() >> (1 + rng() % 31));
    const bg_amax_norm norm = bg_amax_norm_of(amax);
    __mmask8 exact;
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out),
                        bg_avx512_scale_rows8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(dot)), scales, norm, &exact));
    for (int k = 0; k < 8; ++k) {
      const bg_mult want = bg_row_mult_by(scales[k], norm);
      if ((exact >> k) & 1) {
        ++exact_lanes;
        ASSERT_EQ(out[k], bg_mult_apply32(dot[k], want)) << "dot " << dot[k] << " m " << scales[k].m << " shift " << scales[k].shift << " amax " << amax;
      } else {
        ASSERT_TRUE(want.shift < 1 || want.shift > 62);
      }
    }
  }
  EXPECT_GT(exact_lanes, 80000);  // at least half the lanes are the vector's
}

// Eight keys' scores scaled at once (bg_avx512_scale_scores8, attention with an 8-bit
// cache) against bg_mult_apply32(dot, bg_mult_scale16(qk, s16)) one by one: every kind of
// scale16 (zero, exponent 0, normalised), query multipliers zero and normalised, shifts
// inside and outside the vector rounding's range (only the exact lanes are compared).
TEST(P128_SUITE, ScaledScoresEqualTheScalarScaling) {
  P128_REQUIRE();
  std::mt19937 rng(37);
  int exact_lanes = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    const bg_mult qk{trial % 23 == 0 ? 0 : static_cast<int32_t>((1u << 22) + rng() % (1u << 22)), static_cast<int32_t>(rng() % 90) - 10};
    uint16_t s16[8];
    int32_t dot[8], out[8];
    for (int k = 0; k < 8; ++k) {
      s16[k] = static_cast<uint16_t>(rng() % 7 == 0 ? rng() % 0x1000 : rng());
      dot[k] = static_cast<int32_t>(rng()) >> (rng() % 32);
    }
    __mmask8 exact;
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), bg_avx512_scale_scores8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(dot)),
                                                                                 _mm_loadu_si128(reinterpret_cast<const __m128i*>(s16)), qk, &exact));
    for (int k = 0; k < 8; ++k) {
      const bg_mult want = bg_mult_scale16(qk, s16[k]);
      if ((exact >> k) & 1) {
        ++exact_lanes;
        ASSERT_EQ(out[k], bg_mult_apply32(dot[k], want)) << "dot " << dot[k] << " qk " << qk.m << " " << qk.shift << " s16 " << s16[k];
      } else {
        ASSERT_TRUE(want.shift < 1 || want.shift > 62);
      }
    }
  }
  EXPECT_GT(exact_lanes, 80000);
}

// Greedy classification of per-row int8 logits: the first rows eight at a time by the
// AVX-512 loop, the rest by bg_greedy_rows, which goes on from the sampler's state: the
// same token and hash as bg_op_matvec then bg_op_sample, whichever part the largest
// logit is in.
TEST(P128_SUITE, GreedyClassifyGoesOnFromTheVectorRows) {
  P128_REQUIRE();
  std::mt19937 rng(31);
  for (int trial = 0; trial < 40; ++trial) {
    const int32_t rows = 8 * static_cast<int32_t>(1 + rng() % 5) + 1 + static_cast<int32_t>(rng() % 7);  // some rows left past the vector loop
    const int32_t cols = 16 + static_cast<int32_t>(rng() % 48);
    std::vector<int8_t> data(static_cast<size_t>(rows) * cols);
    for (auto& c : data) c = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
    const int32_t top = static_cast<int32_t>(rng() % rows);  // a row that wins by far
    for (int32_t j = 0; j < cols; ++j) data[static_cast<size_t>(top) * cols + j] = 127;
    std::vector<bg_mult> scales(rows);
    for (auto& k : scales) k = bg_mult{static_cast<int32_t>((1u << 22) + rng() % 1024), 40};
    std::vector<int8_t> x(cols, 100);
    bg_matrix m{};
    m.data = reinterpret_cast<const uint8_t*>(data.data());
    m.scales = scales.data();
    m.rows = rows, m.cols = cols, m.row_bytes = cols, m.dtype = BG_W_INT8, m.per_row = 1;
    const int32_t amax = 1 << 20;
    std::vector<int32_t> logits(rows);
    bg_op_matvec(&m, x.data(), amax, logits.data(), BG_STORE);
    uint64_t rng_a = 1, rng_b = 1, want_hash = BG_FNV_OFFSET, got_hash = BG_FNV_OFFSET;
    const int32_t want = bg_op_sample(logits.data(), rows, 0, &rng_a, &want_hash);
    ASSERT_EQ(want, top);
    ASSERT_EQ(bg_fused_classify_sample(&m, x.data(), nullptr, amax, 0, &rng_b, &got_hash), want) << "rows " << rows << " top " << top;
    ASSERT_EQ(got_hash, want_hash);
  }
}

}  // namespace
#endif
