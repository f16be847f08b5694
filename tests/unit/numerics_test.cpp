// The integer primitives against libm, within the tolerances the numerics doc states.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "ir/constants.h"
#include "runtime/bitgpt_numerics.h"
#include "runtime/bitgpt_fused.h"
#include "runtime/bitgpt_smlad.h"

namespace {

// The table's linear interpolation errs by at most (1/1024)^2 / 8 (ln 2)^2 ~ 5.8e-8 of the
// value; the roundings add a few Q30 units.
TEST(Numerics, ExpMatchesLibm) {
  for (double x = -20.0; x <= 0.0; x += 0.00137) {
    const auto q = static_cast<int32_t>(std::lround(x * 65536));
    const double got = static_cast<double>(bg_exp_neg_q30(q)) / (1 << 30);
    ASSERT_NEAR(got, std::exp(q / 65536.0), 3e-9 + 6e-8 * std::exp(q / 65536.0)) << x;
  }
  EXPECT_EQ(bg_exp_neg_q16(0), 65536);
  EXPECT_EQ(bg_exp_neg_q30(-40 * 65536), 0);
}

// The softmax weight skips the table's interpolation where its rounding makes it 0 (n >= 18):
// for every Q16 argument down to past that point, the rounded Q30 value.
TEST(Numerics, ExpQ16IsTheRoundedQ30Value) {
  int zeros = 0;
  for (int32_t x = 0; x >= -(14 << 16); --x) {
    const int64_t q30 = bg_exp_neg_q30(x);
    ASSERT_EQ(bg_exp_neg_q16(x), static_cast<int32_t>((q30 + (1 << 13)) >> 14)) << x;
    zeros += q30 != 0 && bg_exp_neg_q16(x) == 0;
  }
  EXPECT_GT(zeros, 0);  // the range reaches where the Q30 value is not 0 yet the Q16 one is
  EXPECT_EQ(bg_exp_neg_q16(INT32_MIN), 0);
}

// A key's score multiplier from its scale16 (bg_mult_scale16) is the exact product of the
// multiplier and the decoded scale truncated to the high word of (k.m << 8)(mant << 20):
// for every scale16 with a normalised mantissa, in [2^29, 2^31) and within 2^-29 of it,
// never above; a zero scale gives a zero multiplier.
TEST(Numerics, Scale16MultiplierIsTheTruncatedProduct) {
  std::mt19937 rng(17);
  for (int trial = 0; trial < 24; ++trial) {
    const bg_mult k{static_cast<int32_t>((1u << 22) + rng() % (1u << 22)), static_cast<int32_t>(rng() % 70) - 5};
    for (uint32_t s = 0; s <= 0xFFFF; ++s) {
      const auto s16 = static_cast<uint16_t>(s);
      const bg_mult got = bg_mult_scale16(k, s16);
      const uint32_t mant = bg_scale16_mantissa(s16);
      if (mant == 0) {
        ASSERT_EQ(got.m, 0);
        continue;
      }
      // exact k.m mant 2^(exp - k.shift) against got.m 2^-got.shift, both times 2^(got.shift + 4):
      // k.m mant (the exponents cancel: got.shift = k.shift - exp - 4) against got.m 2^4
      ASSERT_EQ(got.shift, k.shift - bg_scale16_exponent(s16) - 4);
      const uint64_t exact = static_cast<uint64_t>(k.m) * mant, approx = static_cast<uint64_t>(got.m) << 4;
      ASSERT_LE(approx, exact);
      ASSERT_LT(exact - approx, 16u);
      if (mant >> 11 == 1) {
        ASSERT_GE(got.m, 1 << 29);
        ASSERT_LT(exact - approx, exact >> 29);
      }
    }
  }
}

TEST(Numerics, SigmoidTableIsTheFormula) {
  for (int i = 0; i <= 1024; ++i)
    EXPECT_EQ(bg_sigmoid_table[i], static_cast<uint16_t>(std::floor(65536.0 / (1.0 + std::exp(i / 64.0)) + 0.5))) << i;
  EXPECT_EQ(bg_sigmoid_q16(0), 32768);
  EXPECT_EQ(bg_sigmoid_q16(16 << 16), 65536);
  EXPECT_EQ(bg_sigmoid_q16(INT32_MIN), 0);
  EXPECT_EQ(bg_sigmoid_q16(INT32_MAX), 65536);
}

TEST(Numerics, SigmoidSiluGelu) {
  for (double x = -17.0; x <= 17.0; x += 0.00731) {
    const auto q = static_cast<int32_t>(std::lround(x * 65536));
    const double xr = q / 65536.0;
    EXPECT_NEAR(bg_sigmoid_q16(q) / 65536.0, 1.0 / (1.0 + std::exp(-xr)), 1.2 / 65536);
    EXPECT_NEAR(bg_silu_q16(q) / 65536.0, xr / (1.0 + std::exp(-xr)), 1e-3 * std::fabs(xr) + 2.0 / 65536);
    const double gelu = 0.5 * xr * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (xr + 0.044715 * xr * xr * xr)));
    EXPECT_NEAR(bg_gelu_q16(q) / 65536.0, gelu, 1e-3 * std::fabs(xr) + 3.0 / 65536);
  }
  EXPECT_EQ(bg_relu2_q16(-5 << 16), 0);
  EXPECT_EQ(bg_relu2_q16(3 << 16), 9 << 16);
}

TEST(Numerics, SinCosOverWholeTurns) {
  for (uint64_t i = 0; i < 4096; ++i) {
    const auto u = static_cast<uint32_t>(i * 1048573u);
    const double angle = 2.0 * M_PI * (u / 4294967296.0);
    EXPECT_NEAR(bg_sin_turn_q30(u) / 1073741824.0, std::sin(angle), 2e-7);
    EXPECT_NEAR(bg_cos_turn_q30(u) / 1073741824.0, std::cos(angle), 2e-7);
  }
}

TEST(Numerics, LogMatchesLibm) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 2000; ++i) {
    const uint64_t v = (rng() >> (rng() % 60)) | 1;
    const double got = static_cast<double>(bg_ln_q32(v, 20)) / 4294967296.0;
    EXPECT_NEAR(got, std::log(static_cast<double>(v) / 1048576.0), 2e-6);
  }
}

TEST(Numerics, IntegerSquareRootIsExactFloor) {
  std::mt19937_64 rng(5);
  for (int i = 0; i < 10000; ++i) {
    const uint64_t v = rng() >> (rng() % 64);
    const uint64_t r = bg_isqrt64(v);
    EXPECT_LE(r * r, v);
    EXPECT_GT((r + 1) * (r + 1), v);
  }
  // the start bit, found by counting leading zeros: zero, powers of 4 and either side
  EXPECT_EQ(bg_isqrt64(0), 0u);
  for (int k = 0; k < 32; ++k) {
    const uint64_t p = uint64_t{1} << (2 * k);
    EXPECT_EQ(bg_isqrt64(p), uint64_t{1} << k);
    EXPECT_EQ(bg_isqrt64(p - 1), (uint64_t{1} << k) - 1);
    EXPECT_EQ(bg_isqrt64(2 * p), static_cast<uint32_t>(std::sqrt(2.0 * static_cast<double>(p))));
  }
  EXPECT_EQ(bg_isqrt64(UINT64_MAX), 0xFFFFFFFFu);
}

// The 64-by-32 division in 32-bit steps (bg_udiv64_32, the norm's and the multipliers'
// divisions on cores with a hardware 32-bit divide) is the exact quotient: every
// magnitude of dividend and divisor, divisors with one bit or all bits set, and the cases
// where a digit estimate needs its corrections.
TEST(Numerics, WordDivisionIsTheExactQuotient) {
  std::mt19937_64 rng(13);
  auto check = [](uint64_t n, uint32_t d) { ASSERT_EQ(bg_udiv64_32(n, d), n / d) << n << " / " << d; };
  for (int i = 0; i < 400000; ++i) {
    const uint64_t n = rng() >> (rng() % 64);
    const auto d = static_cast<uint32_t>(rng() >> (32 + rng() % 32));
    if (d) check(n, d);
  }
  for (uint32_t d : {1u, 2u, 3u, 127u, 128u, 384u, 0xFFFFu, 0x10000u, 0x10001u, 0x7FFFFFFFu, 0x80000000u, 0x80000001u, 0xFFFFFFFEu, 0xFFFFFFFFu})
    for (uint64_t n : {uint64_t{0}, uint64_t{1}, uint64_t{d} - 1, uint64_t{d}, uint64_t{d} << 32, (uint64_t{d} << 32) - 1, UINT64_MAX, UINT64_MAX - d,
                       uint64_t{0xFFFF8000FFFFFFFFull}, uint64_t{0x7FFF800000000000ull}})
      check(n, d);
  // the divisor's high digit with its low digit near full: the estimates overshoot
  for (int i = 0; i < 100000; ++i) {
    const uint32_t d = 0x80000000u | static_cast<uint32_t>(rng() & 0xFFFF) << 16 | 0xFFF0u | static_cast<uint32_t>(rng() & 0xF);
    check(rng(), d);
    check(rng() >> (rng() % 32), d >> (rng() % 16));
  }
  EXPECT_EQ(bg_udiv64(uint64_t{1} << 62, uint64_t{1} << 40), uint64_t{1} << 22);
  EXPECT_EQ(bg_udiv64(123456789012345ull, 384), 123456789012345ull / 384);
}

TEST(Numerics, MultipliersRoundTrip) {
  for (double v : {1e-9, 3.7e-5, 0.0078125, 0.5, 1.0, 1.2345, 1000.0, 65536.0 * 3.3}) {
    const bg_mult m = bitgpt::mult_from_double(v);
    EXPECT_GE(m.m, 1 << 22);
    EXPECT_LT(m.m, 1 << 23);
    const int64_t x = 123456789;
    EXPECT_NEAR(static_cast<double>(bg_mult_apply64(x, m)), x * v, std::fabs(x * v) * 2.5e-7 + 0.5) << v;
  }
  const bg_mult r = bg_mult_ratio(127, 3000);
  EXPECT_EQ(bg_mult_apply(3000, r), 127);
  const bg_mult quarter = bg_mult_ratio(1, 4);
  EXPECT_EQ(bg_mult_apply(-6, quarter), -1);  // -1.5 rounds toward +infinity
  EXPECT_EQ(bg_mult_apply(6, quarter), 2);
}

TEST(Numerics, Scale16NeverClipsAndIsTight) {
  for (int32_t amax = 1; amax < (1 << 26); amax = amax * 3 / 2 + 1) {
    const int32_t dec = bg_scale16_decode(bg_scale16_encode(amax));
    EXPECT_GE(dec, amax);
    EXPECT_LE(dec - amax, std::max(1, amax / 2000));
  }
  EXPECT_EQ(bg_scale16_decode(bg_scale16_encode(0)), 0);
}

TEST(Numerics, ParsesTemperaturesWithoutFloatingPoint) {
  EXPECT_EQ(bg_parse_q16("1"), 65536);
  EXPECT_EQ(bg_parse_q16("0.5"), 32768);
  EXPECT_EQ(bg_parse_q16("0.8"), 52429);
  EXPECT_EQ(bg_parse_q16(".25"), 16384);
  EXPECT_EQ(bg_parse_q16("-1"), -1);
  EXPECT_EQ(bg_parse_q16("1e3"), -1);
  EXPECT_EQ(bg_parse_q16(""), -1);
}

TEST(Numerics, Fnv1a64KnownVector) {
  // One FNV-1a 64 step over the 32-bit word 0x64636261 from the offset basis:
  // (0xcbf29ce484222325 ^ 0x64636261) * 0x100000001b3 mod 2^64.
  EXPECT_EQ(bg_fnv_i32(BG_FNV_OFFSET, 0x64636261), 0xce81dce90ee1e68cull);
}

// The split multiply (h * 0x1b3 + (h << 40) in 32-bit halves) is the FNV-1a step over a
// 32-bit word with a 64-bit multiply by the prime, from any state.
TEST(Numerics, Fnv1a64SplitMultiplyIsTheTextbookStep) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 20000; ++i) {
    const uint64_t h = rng();
    const auto v = static_cast<int32_t>(rng());
    const uint64_t want = (h ^ static_cast<uint32_t>(v)) * 0x100000001b3ull;
    ASSERT_EQ(bg_fnv_i32(h, v), want) << std::hex << h << " " << v;
  }
}

// The residual stream's saturating add (bg_add_sat32: QADD on cores with the DSP
// extension) is sat32 of the 64-bit sum, at both ends and across them.
TEST(Numerics, SaturatingAddIsTheClampedSum) {
  std::mt19937 rng(19);
  for (int i = 0; i < 200000; ++i) {
    const auto a = static_cast<int32_t>(rng()), b = static_cast<int32_t>(rng()) >> (rng() % 32);
    ASSERT_EQ(bg_add_sat32(a, b), bg_sat32(static_cast<int64_t>(a) + b)) << a << " " << b;
  }
  EXPECT_EQ(bg_add_sat32(INT32_MAX, 1), INT32_MAX);
  EXPECT_EQ(bg_add_sat32(INT32_MIN, -1), INT32_MIN);
  EXPECT_EQ(bg_add_sat32(INT32_MAX, INT32_MIN), -1);
  EXPECT_EQ(bg_add_sat32(-5, 3), -2);
}

// The 32-bit fast paths must give exactly the general 64-bit results.
TEST(Numerics, RoundShiftFastPathsMatchTheGeneralOne) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200000; ++i) {
    const int s = static_cast<int>(rng() % 70) - 4;
    int64_t v = static_cast<int64_t>(rng());
    v >>= rng() % 64;  // all magnitudes
    if (s < 0 && (v > (INT64_C(1) << 40) || v < -(INT64_C(1) << 40))) continue;
    EXPECT_EQ(bg_round_shift_sat32(v, s), bg_sat32(bg_shr_round(v, s))) << v << " " << s;
  }
  for (int s = 1; s <= 62; ++s)
    for (int64_t v : {INT64_MAX, INT64_MIN + 1, INT64_C(0), INT64_C(-1), INT64_C(1) << 31, -(INT64_C(1) << 31), (INT64_C(1) << 32) - 1})
      EXPECT_EQ(bg_round_shift_sat32(v, s), bg_sat32(static_cast<int64_t>((static_cast<__int128>(v >> (s - 1)) + 1) >> 1))) << v << " " << s;
}

// bg_mult_normalize against its definition: the mantissa rounded to 23 bits.
TEST(Numerics, MultNormalizeRoundsToTwentyThreeBits) {
  std::mt19937_64 rng(11);
  std::vector<uint64_t> cases;
  for (int b = 0; b < 64; ++b) {  // the edges: powers of two, all ones (rounding carries), halves
    cases.push_back(uint64_t{1} << b);
    cases.push_back((uint64_t{1} << b) - 1 + (b == 0));
    cases.push_back((uint64_t{3} << b >> 1) | 1u);
  }
  for (int i = 0; i < 300000; ++i) cases.push_back((rng() >> (rng() % 64)) | 1u);
  EXPECT_EQ(bg_mult_normalize(0, 40).m, 0);
  for (const uint64_t m : cases) {
    const bg_mult k = bg_mult_normalize(m, 40);
    ASSERT_GE(k.m, 1 << 22) << m;
    ASSERT_LT(k.m, 1 << 23) << m;
    const int lead = 63 - bg_clz64(m);
    if (lead <= 22) {
      EXPECT_EQ(static_cast<uint64_t>(k.m), m << (22 - lead));
    } else {
      const int drop = lead - 22;
      const unsigned __int128 want = ((static_cast<unsigned __int128>(m) + (static_cast<unsigned __int128>(1) << (drop - 1))) >> drop);
      const uint64_t w = static_cast<uint64_t>(want);
      EXPECT_EQ(w >> 23 ? w >> 1 : w, static_cast<uint64_t>(k.m)) << m;
      EXPECT_EQ(40 - drop - (w >> 23 ? 1 : 0), k.shift) << m;
    }
  }
}

// The DSP kernel's flash tables expand a byte of 2-bit codes into the int16 pairs
// (w0, w2) and (w1, w3) that SXTB16 pairs activations into.
TEST(Numerics, SmladTablesHoldTheWeightPairs) {
  for (uint32_t b = 0; b < 256; ++b) {
    int w[4];
    for (int k = 0; k < 4; ++k) w[k] = ((b >> (2 * k)) & 3) == 2 ? 0 : bg_trit_at(b, k);  // code 10 is never loaded
    EXPECT_EQ(bg_smlad_pairs[b][0], (static_cast<uint32_t>(w[0]) & 0xFFFF) | (static_cast<uint32_t>(w[2]) << 16)) << b;
    EXPECT_EQ(bg_smlad_pairs[b][1], (static_cast<uint32_t>(w[1]) & 0xFFFF) | (static_cast<uint32_t>(w[3]) << 16)) << b;
  }
}

TEST(Numerics, GumbelNoiseHasTheRightMean) {
  uint64_t state = 42;
  double sum = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) sum += bg_gumbel_q16(bg_rand32(&state)) / 65536.0;
  EXPECT_NEAR(sum / n, 0.5772, 0.03);  // the Euler-Mascheroni constant
}

TEST(Numerics, UncheckedMultiplyIsTheCheckedOneWhereSafe) {
  std::mt19937_64 rng(5);
  int safe = 0;
  for (int i = 0; i < 200000; ++i) {
    const bg_mult k{static_cast<int32_t>((1u << 22) + rng() % (1u << 22)), static_cast<int32_t>(rng() % 40)};
    const int64_t xmax = static_cast<int64_t>(rng() % (1u << (1 + rng() % 30)));
    if (!bg_mult_apply32_safe(k, xmax)) continue;
    ++safe;
    for (const int64_t x : {xmax, -xmax, static_cast<int64_t>(rng() % (xmax + 1)), -static_cast<int64_t>(rng() % (xmax + 1))})
      ASSERT_EQ(bg_mult_apply32_unchecked(static_cast<int32_t>(x), k), bg_mult_apply32(static_cast<int32_t>(x), k)) << x << " " << k.m << " " << k.shift;
  }
  EXPECT_GT(safe, 10000);
}

// The Q32 form (one SMMULR on Armv7E-M; here its C form, the same arithmetic) against
// the checked rounding, wherever bg_mult_q32_form accepts the multiplier and bound. The
// Arm form is held to the same integers by the e2e runs (firmware against interpreter).
TEST(Numerics, Q32MultiplyIsTheCheckedOneWhereFormed) {
  std::mt19937_64 rng(9);
  int formed = 0, by_shift[34] = {};
  for (int i = 0; i < 200000; ++i) {
    const bg_mult k{static_cast<int32_t>((1u << 22) + rng() % (1u << 22)), static_cast<int32_t>(rng() % 40)};
    const int64_t xmax = static_cast<int64_t>(rng() % (1u << (1 + rng() % 31)));
    bg_mult_q32 q{};
    if (!bg_mult_q32_form(k, xmax, &q)) continue;
    ASSERT_TRUE(k.shift >= 2 && k.shift <= 32);
    ASSERT_LT((xmax << q.pre), int64_t{1} << 31);
    ++formed;
    ++by_shift[k.shift];
    for (const int64_t x : {xmax, -xmax, static_cast<int64_t>(rng() % (xmax + 1)), -static_cast<int64_t>(rng() % (xmax + 1))})
      ASSERT_EQ(bg_mult_apply_q32(static_cast<int32_t>(x), q), bg_mult_apply32(static_cast<int32_t>(x), k)) << x << " " << k.m << " " << k.shift;
  }
  EXPECT_GT(formed, 10000);
  EXPECT_GT(by_shift[15], 0);  // the FFN gate's usual shift on the example
  EXPECT_GT(by_shift[32], 0);  // no room left for x: pre = 0
  // where x's shift would overflow, there is no form
  bg_mult_q32 q{};
  EXPECT_FALSE(bg_mult_q32_form(bg_mult{1 << 22, 15}, int64_t{1} << 22, &q));
  EXPECT_TRUE(bg_mult_q32_form(bg_mult{1 << 22, 15}, (int64_t{1} << 22) - 1, &q));
  EXPECT_FALSE(bg_mult_q32_form(bg_mult{1 << 22, 33}, 1, &q));
  EXPECT_FALSE(bg_mult_q32_form(bg_mult{1 << 23, 20}, 1, &q));  // not normalised: m << 8 would pass 2^31
}

// Random vectors for the norm tests: every magnitude up to the int32 extremes, and some
// whose sum of squares passes 2^64 (n 16 of 2^30 + 1 each: 2^64 + 2^35 + 16).
std::vector<int32_t> norm_input(std::mt19937_64& rng, int trial) {
  if (trial == 0) return std::vector<int32_t>(16, (1 << 30) + 1);
  if (trial == 1) {  // LayerNorm: |x - mean| near 2^32, whose square passes INT64_MAX
    std::vector<int32_t> x(10, INT32_MAX);
    x[0] = INT32_MIN;
    return x;
  }
  const int32_t n = 1 + static_cast<int32_t>(rng() % 200);
  const int bits = 1 + static_cast<int>(rng() % 32);
  std::vector<int32_t> x(n);
  for (auto& v : x) v = static_cast<int32_t>(rng()) >> (32 - bits);
  if (trial % 7 == 0) x[rng() % n] = rng() & 1 ? INT32_MIN : INT32_MAX;
  return x;
}

// The statistics: the mean, and 1 / RMS from the sum of squared deviations modulo 2^64
// (which wraps for large inputs: the definition, not an accident), for every magnitude.
TEST(NormStatistics, RmsIsTheWrappingSumOfSquares) {
  std::mt19937_64 rng(31);
  for (int trial = 0; trial < 20000; ++trial) {
    const std::vector<int32_t> x = norm_input(rng, trial);
    const int32_t n = static_cast<int32_t>(x.size());
    for (const int32_t kind : {BG_NORM_RMS, BG_NORM_LAYER}) {
      const bg_norm_params p{kind, n, nullptr, nullptr, 1 << 10, 0};
      const bg_norm_stats s = bg_norm_statistics(x.data(), &p);
      int64_t sum = 0;
      for (const int32_t v : x) sum += v;
      const int32_t mean = kind == BG_NORM_LAYER ? static_cast<int32_t>(bg_div_round(sum, n)) : 0;
      uint64_t ss = 0;
      for (const int32_t v : x) {
        const uint64_t d = static_cast<uint64_t>(static_cast<int64_t>(v) - mean);
        ss += d * d;
      }
      const bg_mult want = bg_mult_ratio(BG_ACT_ONE, bg_isqrt64(ss / static_cast<uint64_t>(n) + (1 << 10)));
      ASSERT_EQ(s.mean, mean) << "trial " << trial;
      ASSERT_EQ(s.inv_rms.m, want.m) << "trial " << trial << " kind " << kind;
      ASSERT_EQ(s.inv_rms.shift, want.shift) << "trial " << trial << " kind " << kind;
    }
  }
}

// An RMSNorm with no bias, then int8 codes (NormQuantize's definition, bitgpt_fused.h):
// the kernels with a buffer (scratch, or over x itself) and without one, against the
// definition written out in 128-bit arithmetic: e from the RMS's bound on max|x|, p_i =
// round((x_i 2^e) g_i 2^b / 2^31), the checked quantisation of p, and amax = round(max|p|
// k 2^(15 - b - e)); on every magnitude of input (sums of squares that wrap included),
// gains of either sign up to 2^30 (b down to -1), and no gain.
TEST(FusedNormQuantize, RmsCodesAreTheDefinitionForAnyVector) {
  std::mt19937_64 rng(37);
  for (int trial = 0; trial < 20000; ++trial) {
    const std::vector<int32_t> x = norm_input(rng, trial);
    const int32_t n = static_cast<int32_t>(x.size());
    std::vector<int32_t> g(n), y(n), p_ref(n);
    const bool gained = trial % 10 != 0;
    const int gain_bits = 1 + static_cast<int>(rng() % 31);
    for (auto& v : g) v = static_cast<int32_t>(rng() % (1u << gain_bits)) * (rng() % 4 == 0 ? -1 : 1);
    int32_t gain_max = 0;
    for (const int32_t v : g) gain_max = std::max(gain_max, bg_abs32(v));
    const bg_norm_params p{BG_NORM_RMS, n, gained ? g.data() : nullptr, nullptr, 1 << 10, gain_max};
    // the definition
    const int b = !gained ? 15 : gain_max == 0 ? 0 : 29 - (31 - __builtin_clz(static_cast<uint32_t>(gain_max)));
    uint64_t ss = 0;
    for (const int32_t v : x) ss += static_cast<uint64_t>(static_cast<int64_t>(v) * v);
    const uint32_t rms = bg_isqrt64(ss / static_cast<uint64_t>(n) + (1 << 10));
    int64_t root = 1;
    while (root * root < n) root <<= 1;
    const uint64_t bound = static_cast<uint64_t>(root) * (static_cast<uint64_t>(rms) + 1);
    int bits = 0;
    while (bits < 64 && (bound >> bits) != 0) ++bits;
    const int e = bits < 30 ? 30 - bits : 0;
    for (int32_t i = 0; i < n; ++i) {
      const int32_t xe = static_cast<int32_t>(static_cast<uint32_t>(x[i]) << e);
      if (!gained) {
        p_ref[i] = xe;
        continue;
      }
      const int64_t G = b >= 0 ? static_cast<int64_t>(g[i]) << b : g[i] >> -b;
      const __int128 v = static_cast<__int128>(xe) * G + (static_cast<__int128>(1) << 30);
      p_ref[i] = static_cast<int32_t>(v >> 31);  // floor: ties up
    }
    std::vector<int8_t> q(n), q_ref(n), q_twice(n);
    int32_t m = 0;
    bg_op_quantize(p_ref.data(), n, q_ref.data(), &m);
    const bg_mult k = bg_mult_ratio(BG_ACT_ONE, rms);
    const int32_t amax_ref = bg_sat32(bg_shr_round(static_cast<int64_t>(m) * k.m, k.shift + b + e - 15));
    // the kernels
    int32_t amax = 0, amax_twice = 0;
    bg_fused_norm_quantize_via(x.data(), &p, y.data(), q.data(), &amax);
    ASSERT_EQ(y, p_ref) << "trial " << trial << " n " << n << " b " << b << " e " << e;
    ASSERT_EQ(q, q_ref) << "trial " << trial;
    ASSERT_EQ(amax, amax_ref) << "trial " << trial;
    bg_fused_norm_quantize(x.data(), &p, q_twice.data(), &amax_twice);
    ASSERT_EQ(q_twice, q_ref) << "trial " << trial;
    ASSERT_EQ(amax_twice, amax_ref) << "trial " << trial;
    std::vector<int32_t> over = x;  // over x itself
    bg_fused_norm_quantize_via(over.data(), &p, over.data(), q.data(), &amax);
    ASSERT_EQ(over, p_ref) << "trial " << trial;
    ASSERT_EQ(q, q_ref) << "trial " << trial;
  }
}

// Other norms (LayerNorm, and RMSNorm with a bias), then int8 codes: the fused kernel
// against the chain bg_op_norm, bg_op_quantize, on every magnitude of input and gains of
// either sign up to 2^22 (64.0).
TEST(FusedNormQuantize, EqualsTheCheckedChainForAnyVector) {
  std::mt19937_64 rng(37);
  for (int trial = 0; trial < 20000; ++trial) {
    const std::vector<int32_t> x = norm_input(rng, trial);
    const int32_t n = static_cast<int32_t>(x.size());
    std::vector<int32_t> g(n), bias(n), y(n), y_ref(n);
    const int gain_bits = 1 + static_cast<int>(rng() % 23);
    for (auto& v : g) v = static_cast<int32_t>(rng() % (1u << gain_bits)) * (rng() % 4 == 0 ? -1 : 1);
    for (auto& v : bias) v = static_cast<int32_t>(rng() % (1u << 17)) - (1 << 16);
    int32_t gain_max = 0;
    for (const int32_t v : g) gain_max = std::max(gain_max, bg_abs32(v));
    const bool layer = trial % 2 == 0;
    const bg_norm_params p{layer ? BG_NORM_LAYER : BG_NORM_RMS, n, g.data(), layer && trial % 4 == 0 ? nullptr : bias.data(), 1 << 10, gain_max};
    std::vector<int8_t> q(n), q_ref(n);
    int32_t amax = 0, amax_ref = 0;
    bg_fused_norm_quantize_via(x.data(), &p, y.data(), q.data(), &amax);
    bg_op_norm(x.data(), &p, y_ref.data());
    bg_op_quantize(y_ref.data(), n, q_ref.data(), &amax_ref);
    ASSERT_EQ(y, y_ref) << "trial " << trial << " n " << n;
    ASSERT_EQ(q, q_ref) << "trial " << trial;
    ASSERT_EQ(amax, amax_ref) << "trial " << trial;
  }
}

TEST(Numerics, QuantisedCodesNeverNeedTheClamp) {
  // bg_quantize_codes drops the clamp to +-127 on its fast paths: the codes must equal
  // bg_quantize_one's for any vector, its largest |value| included.
  std::mt19937_64 rng(17);
  for (int i = 0; i < 20000; ++i) {
    const int32_t m = static_cast<int32_t>(1 + rng() % (1u << (1 + rng() % 31)));
    std::vector<int32_t> y = {m, -m, 0};
    for (int k = 0; k < 13; ++k) y.push_back(static_cast<int32_t>(static_cast<int64_t>(rng() % (2 * static_cast<uint64_t>(m) + 1)) - m));
    const bg_mult inv = bg_mult_ratio(127, m);
    std::vector<int8_t> q(y.size());
    bg_quantize_codes(y.data(), static_cast<int32_t>(y.size()), inv, m, q.data());
    for (size_t k = 0; k < y.size(); ++k) ASSERT_EQ(q[k], bg_quantize_one(y[k], inv, 127)) << y[k] << " of " << m;
  }
}

}  // namespace
