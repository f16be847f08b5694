// The BG_W_TERNARY_P128 rows (128-weight blocks of fields w + 1, the x86-64-v3 packing)
// against the sums written out: packed by passes/packing, multiplied one row at a time
// (bg_row_dot) and as many at a time as the kernels do (bg_row_dots: eight, four, two;
// bg_row_dot2x2; bg_p128_rows4x2, the FFN's w1 and w3 rows), with the activations at the
// extremes of the codes and rows long enough to cross the int16 widening span; and int8
// rows (the classifier's) likewise, with column counts that leave tails.
// Included by p128_rows_test.cpp (the plain C loop) and p128_rows_avx2_test.cpp (the same
// checks compiled with AVX2, the vector kernels), with P128_SUITE naming the suite.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "passes/packing.h"
#include "runtime/bitgpt_ops.h"

#ifndef P128_REQUIRE
#define P128_REQUIRE() (void)0
#endif

namespace {

struct TernaryRows {
  std::vector<int> w;  // rows x cols, each -1, 0 or +1
  bitgpt::LoweredMatrix lowered;
};

TernaryRows random_ternary(int32_t rows, int32_t cols, std::mt19937& rng) {
  TernaryRows t;
  std::uniform_int_distribution<int> trit(-1, 1);
  t.w.resize(static_cast<size_t>(rows) * cols);
  t.lowered.name = "w";
  t.lowered.dtype = BG_W_TERNARY2;
  t.lowered.rows = rows, t.lowered.cols = cols, t.lowered.row_bytes = cols / 4;
  t.lowered.data.assign(static_cast<size_t>(rows) * cols / 4, 0);
  t.lowered.scales.assign(1, bg_mult{});
  for (int32_t i = 0; i < rows; ++i)
    for (int32_t j = 0; j < cols; ++j) {
      // rows 0-2 all -1, 0, +1: with every activation at one extreme, sums as large as
      // the codes allow (the kernels' int16 lanes at their bound)
      const int v = i < 3 ? i - 1 : trit(rng);
      t.w[static_cast<size_t>(i) * cols + j] = v;
      t.lowered.data[static_cast<size_t>(i) * cols / 4 + j / 4] |= static_cast<uint8_t>((v == 0 ? 0u : v > 0 ? 1u : 3u) << (2 * (j % 4)));
    }
  return t;
}

int32_t expected_dot(const TernaryRows& t, int32_t r, const std::vector<int8_t>& x) {
  int32_t s = 0;
  for (int32_t j = 0; j < t.lowered.cols; ++j) s += t.w[static_cast<size_t>(r) * t.lowered.cols + j] * x[j];
  return s;
}

TEST(P128_SUITE, RowsOfBlocksEqualTheSums) {
  P128_REQUIRE();
  std::mt19937 rng(7);
  for (int32_t cols : {128, 384, 1024, 1152, 4096, 4224})
    for (int8_t extreme : {int8_t{127}, int8_t{-127}, int8_t{0}}) {
      const int32_t rows = 13;  // a pass of eight, one of four, one row
      const TernaryRows a = random_ternary(rows, cols, rng), b = random_ternary(rows, cols, rng);
      const bitgpt::PackedMatrix pa = bitgpt::pack_matrix(a.lowered, bitgpt::Packing::Planes128, 0);
      const bitgpt::PackedMatrix pb = bitgpt::pack_matrix(b.lowered, bitgpt::Packing::Planes128, 0);
      ASSERT_EQ(pa.data.dtype, BG_W_TERNARY_P128);
      const bg_matrix ma = pa.data.view(), mb = pb.data.view();
      std::uniform_int_distribution<int> code(-127, 127);
      std::vector<int8_t> x(cols);
      for (int32_t j = 0; j < cols; ++j) x[j] = extreme != 0 ? extreme : static_cast<int8_t>(code(rng));
      for (int32_t r = 0; r < rows; ++r) EXPECT_EQ(bg_row_dot(&ma, r, x.data()), expected_dot(a, r, x)) << "cols " << cols << " row " << r;
      for (int32_t r = 0, n = 0; r < rows; r += n) {
        int32_t dot[BG_ROW_DOTS_MAX];
        n = bg_row_dots(&ma, r, x.data(), dot);
        for (int32_t k = 0; k < n; ++k) EXPECT_EQ(dot[k], expected_dot(a, r + k, x)) << "cols " << cols << " row " << r + k;
      }
      for (int32_t r = 0; r + 1 < rows; r += 2) {
        int32_t dot[4];
        bg_row_dot2x2(&ma, &mb, r, x.data(), dot);
        EXPECT_EQ(dot[0], expected_dot(a, r, x));
        EXPECT_EQ(dot[1], expected_dot(a, r + 1, x));
        EXPECT_EQ(dot[2], expected_dot(b, r, x));
        EXPECT_EQ(dot[3], expected_dot(b, r + 1, x));
      }
#if defined(BITGPT_USE_AVX2)
      for (int32_t r = 0; r + 4 <= rows; r += 4) {
        int32_t dot[8];
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dot), bg_p128_rows4x2(ma.data + r * ma.row_bytes, mb.data + r * mb.row_bytes, ma.row_bytes,
                                                                              x.data(), bg_codes_sum(x.data(), cols), cols));
        for (int32_t k = 0; k < 4; ++k) {
          EXPECT_EQ(dot[k], expected_dot(a, r + k, x)) << "cols " << cols << " row " << r + k;
          EXPECT_EQ(dot[4 + k], expected_dot(b, r + k, x)) << "cols " << cols << " row " << r + k;
        }
      }
#endif
    }
}

TEST(P128_SUITE, Int8RowsEqualTheSums) {
  P128_REQUIRE();
  std::mt19937 rng(17);
  for (int32_t cols : {16, 40, 64, 80, 200, 512, 1000, 4100})
    for (int8_t extreme : {int8_t{127}, int8_t{-127}, int8_t{0}}) {
      const int32_t rows = 13;
      std::vector<uint8_t> data(static_cast<size_t>(rows) * cols);
      std::uniform_int_distribution<int> code(-128, 127), act(-127, 127);
      for (auto& b : data) b = static_cast<uint8_t>(extreme != 0 ? (extreme > 0 ? -128 : 127) : code(rng));
      const bg_mult scale{};
      const bg_matrix m{data.data(), &scale, rows, cols, cols, BG_W_INT8, 0};
      std::vector<int8_t> x(cols);
      for (int32_t j = 0; j < cols; ++j) x[j] = extreme != 0 ? extreme : static_cast<int8_t>(act(rng));
      for (int32_t r = 0, n = 0; r < rows; r += n) {
        int32_t dot[BG_ROW_DOTS_MAX];
        n = bg_row_dots(&m, r, x.data(), dot);
        for (int32_t k = 0; k < n; ++k) {
          int32_t expected = 0;
          for (int32_t j = 0; j < cols; ++j) expected += static_cast<int8_t>(data[static_cast<size_t>(r + k) * cols + j]) * x[j];
          EXPECT_EQ(dot[k], expected) << "cols " << cols << " row " << r + k;
        }
      }
    }
}

}  // namespace
