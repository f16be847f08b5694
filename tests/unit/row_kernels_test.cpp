// The row kernels that take several rows at once (plain C on hosts and cores without
// DSP: two 2-bit ternary rows, four int8 rows, int8 row pairs, int16 quads) against the sums written
// out, for every row count and column tail.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "passes/packing.h"
#include "runtime/bitgpt_fused.h"
#include "runtime/bitgpt_ops.h"

namespace {

struct Matrix {
  int32_t rows, cols;
  std::vector<int> w;  // rows x cols
  std::vector<uint8_t> packed;
  bg_matrix m{};

  Matrix(int32_t r, int32_t c, int32_t dtype, std::mt19937& rng) : rows(r), cols(c), w(static_cast<size_t>(r) * c) {
    std::uniform_int_distribution<int> trit(-1, 1), code(-128, 127);
    const int32_t row_bytes = dtype == BG_W_INT8 ? cols : (cols + 3) / 4;
    packed.assign(static_cast<size_t>(rows) * row_bytes, 0);
    for (int32_t i = 0; i < rows; ++i)
      for (int32_t j = 0; j < cols; ++j) {
        int& v = w[static_cast<size_t>(i) * cols + j];
        uint8_t& byte = packed[static_cast<size_t>(i) * row_bytes + (dtype == BG_W_INT8 ? j : j / 4)];
        if (dtype == BG_W_INT8) {
          v = code(rng);
          byte = static_cast<uint8_t>(v);
        } else {
          v = trit(rng);
          byte = static_cast<uint8_t>(byte | (v == 0 ? 0u : v > 0 ? 1u : 3u) << (2 * (j % 4)));
        }
      }
    m.data = packed.data();
    m.rows = rows;
    m.cols = cols;
    m.row_bytes = row_bytes;
    m.dtype = dtype;
  }
  int32_t dot(int32_t r, const std::vector<int8_t>& x) const {
    int32_t s = 0;
    for (int32_t j = 0; j < cols; ++j) s += w[static_cast<size_t>(r) * cols + j] * x[j];
    return s;
  }
};

std::vector<int8_t> extreme_codes(int32_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int> code(-127, 127);
  std::vector<int8_t> x(n);
  for (int32_t j = 0; j < n; ++j) x[j] = static_cast<int8_t>(j % 5 == 0 ? (j % 2 ? -127 : 127) : code(rng));
  return x;
}

TEST(RowKernels, SeveralRowsAtOnceEqualTheSums) {
  std::mt19937 rng(11);
  for (int32_t dtype : {BG_W_TERNARY2, BG_W_INT8})
    for (int32_t rows : {1, 2, 3, 4, 5, 7, 9})
      for (int32_t cols : {1, 3, 4, 7, 8, 130, 299}) {
        const Matrix a(rows, cols, dtype, rng), b(rows, cols, dtype, rng);
        const std::vector<int8_t> x = extreme_codes(cols, rng);
        for (int32_t r = 0; r < rows;) {  // bg_row_dots: as many rows as the kernel takes
          int32_t dot[BG_ROW_DOTS_MAX];
          const int32_t n = bg_row_dots(&a.m, r, x.data(), dot);
          ASSERT_GE(n, 1);
          for (int32_t k = 0; k < n; ++k) ASSERT_EQ(dot[k], a.dot(r + k, x)) << "dtype " << dtype << " rows " << rows << " cols " << cols;
          r += n;
        }
        for (int32_t r = 0; r + 1 < rows; r += 2) {  // two matrices: bg_row_dot2, bg_row_dot2x2 (the FFN's)
          int32_t da, db, d4[4];
          bg_row_dot2(&a.m, r, &b.m, r + 1, x.data(), &da, &db);
          ASSERT_EQ(da, a.dot(r, x));
          ASSERT_EQ(db, b.dot(r + 1, x));
          bg_row_dot2x2(&a.m, &b.m, r, x.data(), d4);
          ASSERT_EQ(d4[0], a.dot(r, x));
          ASSERT_EQ(d4[1], a.dot(r + 1, x));
          ASSERT_EQ(d4[2], b.dot(r, x));
          ASSERT_EQ(d4[3], b.dot(r + 1, x));
        }
      }
}

// int8 rows packed as row pairs (BG_W_INT8_PAIRS) or int16 quads (BG_W_INT16_QUADS):
// bg_row_dots over whole quads and bg_row_dot on the rows left, against the int8 sums,
// for column tails of every length and across the 512-column spans at which the pair
// sums are split, with the largest low-row sums a span can reach.
void expect_wide_int8_rows_equal_the_sums(bitgpt::Packing packing) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> code(-127, 127);
  for (int32_t rows : {1, 2, 3, 4, 5, 7, 8, 13})
    for (int32_t cols : {1, 2, 3, 4, 6, 37, 128, 511, 512, 513, 1100})
      for (int fill : {0, 1, 2}) {  // random, every weight -127 (x -128: the span's bound), every weight 127 (x 127)
        bitgpt::LoweredMatrix m;
        m.name = "wide";
        m.dtype = BG_W_INT8;
        m.rows = rows, m.cols = cols, m.row_bytes = cols;
        m.data.resize(static_cast<size_t>(rows) * cols);
        for (uint8_t& b : m.data) b = static_cast<uint8_t>(static_cast<int8_t>(fill == 0 ? code(rng) : fill == 1 ? -127 : 127));
        m.scales.assign(1, bg_mult{1 << 22, 22});
        std::vector<int8_t> x = extreme_codes(cols, rng);
        if (fill) std::fill(x.begin(), x.end(), static_cast<int8_t>(fill == 1 ? -128 : 127));
        const bitgpt::PackedMatrix p = bitgpt::pack_matrix(m, packing, 0);
        ASSERT_EQ(p.packing, packing);
        ASSERT_EQ(p.data.flash_bytes(), bitgpt::packed_flash_bytes(m, packing));
        const bg_matrix packed = p.data.view(), plain = m.view();
        for (int32_t r = 0; r < rows;) {
          int32_t dot[BG_ROW_DOTS_MAX];
          const int32_t n = bg_row_dots(&packed, r, x.data(), dot);
          for (int32_t k = 0; k < n; ++k)
            ASSERT_EQ(dot[k], bg_row_dot(&plain, r + k, x.data())) << "rows " << rows << " cols " << cols << " fill " << fill << " row " << r + k;
          r += n;
        }
        for (int32_t r = 0; r < rows; ++r) ASSERT_EQ(bg_row_dot(&packed, r, x.data()), bg_row_dot(&plain, r, x.data()));
      }
}

TEST(RowKernels, Int8RowPairsEqualTheSums) { expect_wide_int8_rows_equal_the_sums(bitgpt::Packing::Int8Pairs); }
TEST(RowKernels, Int16QuadsEqualTheSums) { expect_wide_int8_rows_equal_the_sums(bitgpt::Packing::Int16Quads); }

// Int16 quads hold -128 too (row pairs cannot), and lay a step's weights out as the
// format says: row k of a quad at 8k bytes into the step, halfwords w0, w2, w1, w3.
TEST(RowKernels, Int16QuadsLayout) {
  bitgpt::LoweredMatrix m;
  m.name = "w";
  m.dtype = BG_W_INT8;
  m.rows = 5, m.cols = 5, m.row_bytes = 5;
  for (int32_t r = 0; r < 5; ++r)
    for (int32_t c = 0; c < 5; ++c) m.data.push_back(static_cast<uint8_t>(static_cast<int8_t>(r == 4 && c == 4 ? -128 : 10 * r + c)));
  m.scales.assign(1, bg_mult{1 << 22, 22});
  const bitgpt::PackedMatrix p = bitgpt::pack_matrix(m, bitgpt::Packing::Int16Quads, 0);
  ASSERT_EQ(p.data.row_bytes, 64);  // two steps of 32 bytes a quad
  ASSERT_EQ(p.data.data.size(), 128u);  // two quads, rows 5..7 zero
  auto half = [&](size_t at) { return static_cast<int16_t>(p.data.data[at] | p.data.data[at + 1] << 8); };
  EXPECT_EQ(half(8 * 2 + 0), 20);  // row 2, step 0: w0, w2, w1, w3
  EXPECT_EQ(half(8 * 2 + 2), 22);
  EXPECT_EQ(half(8 * 2 + 4), 21);
  EXPECT_EQ(half(8 * 2 + 6), 23);
  EXPECT_EQ(half(32 + 8 * 3), 34);  // row 3, step 1: column 4, then the padding
  EXPECT_EQ(half(32 + 8 * 3 + 2), 0);
  EXPECT_EQ(half(64 + 32 + 0), -128);  // row 4, column 4
  EXPECT_EQ(half(64 + 8), 0);  // row 5 (past the last)
}

TEST(RowKernels, Int8RowPairsRefuseMinus128) {
  bitgpt::LoweredMatrix m;
  m.name = "w";
  m.rows = 2, m.cols = 2, m.row_bytes = 2;
  m.data = {1, 2, 3, 0x80};
  EXPECT_FALSE(bitgpt::int8_pairs_hold(m));
  m.data[3] = 0x81;  // -127
  EXPECT_TRUE(bitgpt::int8_pairs_hold(m));
}

// A per-row multiplier (bg_row_mult_by) is the exact product scale * amax truncated to
// the high word of (m << 8) * up: a mantissa in [2^29, 2^31) for a stored (normalised)
// scale, within 2^-29 of the product, never above it; 0 for amax <= 0. Applied by
// bg_mult_apply32_row, it gives bg_mult_apply32's integer.
TEST(RowKernels, PerRowMultiplierIsTheTruncatedProduct) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 200000; ++trial) {
    const int32_t amax = static_cast<int32_t>(1 + (rng() >> (33 + rng() % 31)));
    const bg_mult k{static_cast<int32_t>((1u << 22) + rng() % (1u << 22)), static_cast<int32_t>(rng() % 80) - 8};
    const bg_mult got = bg_row_mult_by(k, bg_amax_norm_of(amax));
    ASSERT_GE(got.m, 1 << 29);
    ASSERT_LT(got.m, INT32_MAX);
    // exact: k.m amax 2^-k.shift; got: got.m 2^-got.shift. Both times 2^(got.shift + 32):
    // k.m amax 2^(got.shift - k.shift + 32) against got.m 2^32 (got.shift - k.shift = 7 - lead).
    const int up = got.shift - k.shift + 32;
    ASSERT_GE(up, 8);
    ASSERT_LE(up, 39);
    const unsigned __int128 exact = static_cast<unsigned __int128>(k.m) * static_cast<uint32_t>(amax) << up;
    const unsigned __int128 approx = static_cast<unsigned __int128>(got.m) << 32;
    ASSERT_LE(approx, exact) << k.m << " " << amax;
    ASSERT_LT(exact - approx, exact >> 29) << k.m << " " << amax;
    const int32_t headroom = static_cast<int32_t>(rng() % 12);
    const auto x = static_cast<int32_t>(static_cast<int64_t>(rng() % (uint64_t{1} << (31 - headroom))) - (int64_t{1} << (30 - headroom)));
    ASSERT_EQ(bg_mult_apply32_row(x, got, headroom), bg_mult_apply32(x, got)) << x << " " << got.m << " " << got.shift;
  }
  EXPECT_EQ(bg_row_mult_by(bg_mult{1 << 22, 30}, bg_amax_norm_of(0)).m, 0);
  EXPECT_EQ(bg_row_mult_by(bg_mult{1 << 22, 30}, bg_amax_norm_of(-5)).m, 0);
  // amax = 1: up = 2^31, the mantissa is m << 7 and the shift grows by 7
  const bg_mult one = bg_row_mult_by(bg_mult{(1 << 22) + 6, 30}, bg_amax_norm_of(1));
  EXPECT_EQ(one.m, ((1 << 22) + 6) << 7);
  EXPECT_EQ(one.shift, 37);
  // the headroom of a bound: the largest shift that keeps it inside int32
  EXPECT_EQ(bg_headroom(1), 30);
  EXPECT_EQ(bg_headroom((int64_t{1} << 30) - 1), 1);
  EXPECT_EQ(bg_headroom(int64_t{1} << 30), 0);
  EXPECT_EQ(bg_headroom(127 * 128 * 128), 10);  // 2,080,768 * 2^10 < 2^31
}

// Greedy classification (its own loop, bg_greedy_rows) picks what bg_op_matvec and
// bg_op_sample pick and hashes the same logits: per-row and shared scales, int8 and
// ternary rows, row counts that are not multiples of four, ties.
TEST(RowKernels, GreedyClassifyIsMatvecThenSample) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 60; ++trial) {
    const int32_t rows = 1 + static_cast<int32_t>(rng() % 70), cols = 1 + static_cast<int32_t>(rng() % 90);
    Matrix mat(rows, cols, trial % 3 == 0 ? BG_W_TERNARY2 : BG_W_INT8, rng);
    const bool per_row = trial % 2 == 0;
    std::vector<bg_mult> scales(per_row ? rows : 1);
    for (auto& k : scales) k = bg_mult{static_cast<int32_t>((1u << 22) + rng() % (1u << 22)), static_cast<int32_t>(20 + rng() % 30)};
    if (trial % 5 == 0 && rows > 2) {  // a tie: row 1 a copy of row 0, with its scale; the first wins
      std::copy(mat.packed.begin(), mat.packed.begin() + mat.m.row_bytes, mat.packed.begin() + mat.m.row_bytes);
      if (per_row) scales[1] = scales[0];
    }
    mat.m.data = mat.packed.data();
    mat.m.scales = scales.data();
    mat.m.per_row = per_row;
    const std::vector<int8_t> x = extreme_codes(cols, rng);
    const int32_t amax = static_cast<int32_t>(1 + rng() % (1u << (1 + rng() % 30)));
    std::vector<int32_t> logits(rows);
    bg_op_matvec(&mat.m, x.data(), amax, logits.data(), BG_STORE);
    uint64_t rng_a = 1, rng_b = 1, want_hash = BG_FNV_OFFSET, got_hash = BG_FNV_OFFSET;
    const int32_t want = bg_op_sample(logits.data(), rows, 0, &rng_a, &want_hash);
    const int32_t got = bg_fused_classify_sample(&mat.m, x.data(), nullptr, amax, 0, &rng_b, &got_hash);
    ASSERT_EQ(got, want) << "trial " << trial;
    ASSERT_EQ(got_hash, want_hash) << "trial " << trial;
  }
}

}  // namespace
