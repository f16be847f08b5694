// The lookup-table kernel against plain sums: every way it keeps partial sums between
// chunks (none, own scratch, the output itself, int16 pairs in the output).
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "passes/packing.h"
#include "runtime/bitgpt_lut.h"

namespace {

struct Rows {
  int32_t rows, cols;
  std::vector<int> trits;       // rows x cols, -1..1
  // the byte offset 2 ((g mod chunk) * BG_LUT_GROUP + bg_lut_entry(code)), chunk by chunk, in halfwords
  // (BG_W_TERNARY_LUT4) or words (BG_W_TERNARY_LUT4W); held in words, word-aligned
  std::vector<uint32_t> packed;
  bg_matrix m{};

  Rows(int32_t r, int32_t c, int chunk, std::mt19937& rng, int fixed = 2, int width = 2) : rows(r), cols(c), trits(static_cast<size_t>(r) * c) {
    std::uniform_int_distribution<int> trit(-1, 1);
    for (int& t : trits) t = fixed == 2 ? trit(rng) : fixed;
    const int32_t groups = (cols + 3) / 4;
    packed.assign(static_cast<size_t>(rows) * groups, 0);
    for (int32_t i = 0; i < rows; ++i)
      for (int32_t g = 0; g < groups; ++g) {
        int index = 0;
        for (int k = 3; k >= 0; --k) index = 3 * index + (4 * g + k < cols ? trits[static_cast<size_t>(i) * cols + 4 * g + k] + 1 : 1);
        const auto entry = static_cast<uint32_t>(2 * ((g % chunk) * BG_LUT_GROUP + bg_lut_entry(static_cast<uint32_t>(index))));
        const auto at = static_cast<size_t>(bg_lut_index_at(rows, groups, chunk, i, g));
        if (width == 4)
          packed[at] = entry;
        else
          reinterpret_cast<uint16_t*>(packed.data())[at] = static_cast<uint16_t>(entry);
      }
    m.data = reinterpret_cast<const uint8_t*>(packed.data());
    m.rows = rows;
    m.cols = cols;
    m.row_bytes = width * groups;
    m.dtype = width == 4 ? BG_W_TERNARY_LUT4W : BG_W_TERNARY_LUT4;
  }
  int32_t dot(int32_t r, const std::vector<int8_t>& x) const {
    int32_t s = 0;
    for (int32_t j = 0; j < cols; ++j) s += trits[static_cast<size_t>(r) * cols + j] * x[j];
    return s;
  }
};

struct Seen {
  std::vector<int32_t> d1, d3;
};

void record(void* p, int32_t r, int32_t d1, int32_t d3) {
  auto* s = static_cast<Seen*>(p);
  s->d1[r] = d1;
  s->d3[r] = d3;
}

// Runs bg_lut_matvec with `partial` (or none) and checks every row's sums: emitted at once
// for one chunk, else left in `partial` and finished with bg_lut_emit_rows.
void check(const Rows& w1, const Rows* w3, const std::vector<int8_t>& x, int chunk, int32_t* partial, int paired) {
  std::vector<uint16_t> table(static_cast<size_t>(chunk) * BG_LUT_GROUP);
  const bg_lut_scratch s{table.data(), partial, chunk, paired};
  const int32_t groups = w1.m.row_bytes / BG_LUT_INDEX_BYTES(&w1.m);
  Seen seen{std::vector<int32_t>(w1.rows, -1), std::vector<int32_t>(w1.rows, -1)};
  const int32_t after_chunks = bg_lut_matvec(&w1.m, w3 ? &w3->m : nullptr, x.data(), &s, record, &seen);
  ASSERT_EQ(after_chunks, groups > chunk ? 1 : 0) << "chunk " << chunk;
  if (after_chunks) bg_lut_emit_rows(reinterpret_cast<const uint32_t*>(partial), w1.rows, w3 != nullptr, paired, record, &seen);
  for (int32_t r = 0; r < w1.rows; ++r) {
    ASSERT_EQ(seen.d1[r], w1.dot(r, x)) << "row " << r << " chunk " << chunk;
    if (w3) {
      ASSERT_EQ(seen.d3[r], w3->dot(r, x)) << "row " << r << " chunk " << chunk;
    }
  }
}

// Scales for the tests of the scaled rows: one for the whole matrix (the scaler's fast
// path), or one a row, each slightly different.
const bg_mult kOneScale[1] = {{1518500250, 44}};
std::vector<bg_mult> row_scales(int32_t rows, int32_t step) {
  std::vector<bg_mult> s(static_cast<size_t>(rows));
  for (int32_t r = 0; r < rows; ++r) s[static_cast<size_t>(r)] = bg_mult{kOneScale[0].m - step * r, kOneScale[0].shift};
  return s;
}

// Row r's value by the checked definition: the dot product scaled by its row's multiplier
// (scale / 127 * amax: the matrix's one scale renormalised, or the row's truncated product).
int32_t scaled(const bg_matrix& w, int32_t r, int32_t amax, int32_t dot) {
  const bg_mult k = w.per_row ? bg_row_mult_by(w.scales[r], bg_amax_norm_of(amax)) : bg_mult_scale(w.scales[0], amax);
  return bg_mult_apply32(dot, k);
}

std::vector<int8_t> random_codes(int32_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int> code(-127, 127);
  std::vector<int8_t> x(n);
  for (int8_t& v : x) v = static_cast<int8_t>(code(rng));
  return x;
}

// Both index widths (halfwords, words) in each of the ways below.
TEST(LookupKernel, OneChunkAndPartialSumsInScratch) {
  std::mt19937 rng(7);
  // 75 groups: one chunk; 16, 8 and 4: chunks summed as straight code, then a last chunk
  // of 11, 3 and 3 groups summed in the general form; 3: partial sums, general form only
  for (int width : {2, 4})
    for (int chunk : {75, 16, 8, 4, 3}) {
      const Rows w1(37, 299, chunk, rng, 2, width), w3(37, 299, chunk, rng, 2, width);
      const std::vector<int8_t> x = random_codes(299, rng);
      std::vector<int32_t> partial(2 * 37);
      check(w1, &w3, x, chunk, partial.data(), 0);
      check(w1, nullptr, x, chunk, partial.data(), 0);
    }
}

TEST(LookupKernel, PartialSumsInTheOutputAndAsInt16Pairs) {
  std::mt19937 rng(11);
  for (int width : {2, 4})
    for (int chunk : {5, 16, 8, 4}) {  // 33 groups: a last chunk of 3, 1, 1 and 1 groups
      const Rows w1(21, 130, chunk, rng, 2, width), w3(21, 130, chunk, rng, 2, width);
      const std::vector<int8_t> x = random_codes(130, rng);
      std::vector<int32_t> out(21);  // the output doubles as the partial sums
      check(w1, nullptr, x, chunk, out.data(), 0);
      check(w1, &w3, x, chunk, out.data(), 1);
    }
}

// The packer's word indices (passes/packing.cpp) are the halfword ones, widened: the same
// entries at the same places.
TEST(LookupKernel, WordIndicesAreTheHalfwordOnesWidened) {
  std::mt19937 rng(17);
  bitgpt::LoweredMatrix m;
  m.name = "w";
  m.rows = 13;
  m.cols = 70;  // 18 groups: chunks of 8, 8 and 2
  m.row_bytes = (m.cols + 3) / 4;
  m.dtype = BG_W_TERNARY2;
  m.data.resize(static_cast<size_t>(m.rows) * m.row_bytes);
  const uint8_t fields[3] = {3, 0, 1};  // -1, 0, +1 as 2-bit fields (bg_trit_at)
  for (uint8_t& b : m.data)
    for (int k = 0; k < 4; ++k) b = static_cast<uint8_t>(b | fields[rng() % 3] << (2 * k));
  m.scales = {kOneScale[0]};
  const bitgpt::PackedMatrix half = bitgpt::pack_matrix(m, bitgpt::Packing::LookupIndices, 8);
  const bitgpt::PackedMatrix word = bitgpt::pack_matrix(m, bitgpt::Packing::LookupWords, 8);
  ASSERT_EQ(word.packing, bitgpt::Packing::LookupWords);
  ASSERT_EQ(word.data.dtype, BG_W_TERNARY_LUT4W);
  ASSERT_EQ(word.data.row_bytes, 2 * half.data.row_bytes);
  ASSERT_EQ(word.data.flash_bytes(), bitgpt::packed_flash_bytes(m, bitgpt::Packing::LookupWords));
  for (size_t i = 0; i < half.data.data.size() / 2; ++i) {
    const uint32_t h = half.data.data[2 * i] | half.data.data[2 * i + 1] << 8;
    uint32_t w = 0;
    for (int b = 3; b >= 0; --b) w = w << 8 | word.data.data[4 * i + static_cast<size_t>(b)];
    ASSERT_EQ(w, h) << "index " << i;
  }
}

TEST(LookupKernel, Int16PairsAreExactAtTheirLimit) {
  // cols = 258 with every code +-127 and every weight equal: |sum| = 32766, the most an
  // int16 half holds, in both signs.
  std::mt19937 rng(3);
  const Rows plus(4, 258, 7, rng, 1), minus(4, 258, 7, rng, -1);
  std::vector<int32_t> out(4);
  for (int8_t v : {int8_t{127}, int8_t{-127}}) {
    const std::vector<int8_t> x(258, v);
    check(plus, &minus, x, 7, out.data(), 1);
  }
}

// The gated FFN on lookup tables against the checked definition of the gate on plain sums,
// row by row: on the gate's fast path (SiLU with small multipliers: bg_lut_ffn_fast_rows
// after chunks) and off it (per-row multipliers, or GELU), in one chunk and in several.
TEST(LookupKernel, GatedFfnRowsEqualTheGateOfPlainSums) {
  std::mt19937 rng(5);
  const int32_t rows = 23, cols = 120;  // 30 groups
  const std::vector<bg_mult> per_row = row_scales(rows, 7919);
  for (int chunk : {30, 16, 7}) {
    Rows w1(rows, cols, chunk, rng), w3(rows, cols, chunk, rng);
    const std::vector<int8_t> x = random_codes(cols, rng);
    for (const bool fast : {true, false})
      for (const int32_t act : {int32_t{BG_ACT_SILU}, int32_t{BG_ACT_GELU}}) {
        w1.m.scales = w3.m.scales = fast ? kOneScale : per_row.data();
        w1.m.per_row = w3.m.per_row = fast ? 0 : 1;
        const int32_t amax = 40 << 16;  // the multiplier ~226: dots up to 15,240 scale to ~53.0, typically ~2
        const bg_ffn_gate gate = bg_ffn_gate_begin(&w1.m, &w3.m, act, amax);
        ASSERT_EQ(gate.fast, fast && act == BG_ACT_SILU ? 1 : 0) << "the test's multipliers no longer give the path it means";
        std::vector<uint16_t> table(static_cast<size_t>(chunk) * BG_LUT_GROUP);
        std::vector<int32_t> h(rows, -1);
        const bg_lut_scratch s{table.data(), h.data(), chunk, BG_LUT_PAIRED};  // the pairs in the output
        bg_lut_fused_ffn_up(&w1.m, &w3.m, act, x.data(), amax, h.data(), &s);
        for (int32_t r = 0; r < rows; ++r) {
          const int32_t up = scaled(w1.m, r, amax, w1.dot(r, x)), by = scaled(w3.m, r, amax, w3.dot(r, x));
          ASSERT_EQ(h[static_cast<size_t>(r)], bg_mul_q16(bg_activation(act, up), by)) << "row " << r << " chunk " << chunk;
        }
      }
  }
}

// The gate in its high-multiply forms (bg_ffn_gate_q32, used where the core has SMMULR)
// against its unchecked roundings, on dot products across the matrices' whole bound, for
// activation scales from tiny to where the forms no longer fit.
TEST(LookupKernel, GateHighMultiplyFormIsTheFastRow) {
  std::mt19937 rng(13);
  Rows w1(8, 128, 32, rng), w3(8, 128, 32, rng);
  w1.m.scales = w3.m.scales = kOneScale;
  w1.m.per_row = w3.m.per_row = 0;
  int formed = 0;
  for (int shift = 0; shift < 31; ++shift) {
    const bg_ffn_gate gate = bg_ffn_gate_begin(&w1.m, &w3.m, BG_ACT_SILU, static_cast<int32_t>((1u << shift) | (rng() & ((1u << shift) - 1))));
    bg_ffn_gate_q32_form f;
    if (!bg_ffn_gate_q32(&gate, &f)) continue;
    ++formed;
    const int32_t bound = static_cast<int32_t>(bg_row_dot_bound(&w1.m));
    for (int i = 0; i < 20000; ++i) {
      const int32_t d1 = static_cast<int32_t>(rng() % (2u * bound + 1)) - bound, d3 = static_cast<int32_t>(rng() % (2u * bound + 1)) - bound;
      const int32_t e1 = i % 4 == 0 ? bound : i % 4 == 1 ? -bound : d1;  // the extremes too
      ASSERT_EQ(bg_ffn_gate_q32_row(&f, e1, d3), bg_ffn_gate_fast_row(gate.up.shared, gate.gate.shared, e1, d3)) << "amax 2^" << shift << " d1 " << e1 << " d3 " << d3;
    }
  }
  EXPECT_GT(formed, 10);
}

// The FFN without a gate (W1 only: GELU or ReLU^2 models) on lookup tables: the activation
// of each row's checked scaling, with one multiplier and with one a row, in one chunk and
// in several.
TEST(LookupKernel, UngatedFfnRowsEqualTheActivationOfPlainSums) {
  std::mt19937 rng(23);
  const int32_t rows = 21, cols = 100;  // 25 groups
  const std::vector<bg_mult> per_row = row_scales(rows, 7919);
  const int32_t amax = 40 << 16;
  for (int chunk : {25, 16, 8, 6}) {
    Rows w1(rows, cols, chunk, rng);
    const std::vector<int8_t> x = random_codes(cols, rng);
    for (const bool one_multiplier : {true, false})
      for (const int32_t act : {int32_t{BG_ACT_GELU}, int32_t{BG_ACT_RELU2}}) {
        w1.m.scales = one_multiplier ? kOneScale : per_row.data();
        w1.m.per_row = one_multiplier ? 0 : 1;
        std::vector<uint16_t> table(static_cast<size_t>(chunk) * BG_LUT_GROUP);
        std::vector<int32_t> h(rows, -1);
        const bg_lut_scratch s{table.data(), h.data(), chunk, BG_LUT_SEPARATE};
        bg_lut_fused_ffn_up(&w1.m, nullptr, act, x.data(), amax, h.data(), &s);
        for (int32_t r = 0; r < rows; ++r)
          ASSERT_EQ(h[static_cast<size_t>(r)], bg_activation(act, scaled(w1.m, r, amax, w1.dot(r, x)))) << "row " << r << " chunk " << chunk;
      }
  }
}

// The other products on lookup tables (bg_lut_op_matvec: after chunks bg_lut_fast_rows,
// or the per-row callback) against the checked scaling of plain sums: stored (the partial
// sums in the output) and added to a residual near both int32 limits (saturating), with
// one multiplier and with one a row, in one chunk and in several.
TEST(LookupKernel, ProductRowsEqualTheCheckedScalingOfPlainSums) {
  std::mt19937 rng(17);
  const int32_t rows = 19, cols = 96;  // 24 groups
  const std::vector<bg_mult> per_row = row_scales(rows, 104729);
  const int32_t amax = 40 << 16;
  for (int chunk : {24, 16, 5}) {
    Rows w(rows, cols, chunk, rng);
    const std::vector<int8_t> x = random_codes(cols, rng);
    for (const bool one_multiplier : {true, false})
      for (const int32_t accumulate : {0, 1}) {
        w.m.scales = one_multiplier ? kOneScale : per_row.data();
        w.m.per_row = one_multiplier ? 0 : 1;
        ASSERT_EQ(bg_row_scaler_begin(&w.m, amax).fast, one_multiplier ? 1 : 0) << "the test's multipliers no longer give the path it means";
        std::vector<int32_t> out(rows), residual(rows), scratch(rows);
        for (int32_t r = 0; r < rows; ++r) residual[static_cast<size_t>(r)] = r % 3 == 0 ? INT32_MAX - r : r % 3 == 1 ? INT32_MIN + r : r * 7919 - 50000;
        if (accumulate) out = residual;
        std::vector<uint16_t> table(static_cast<size_t>(chunk) * BG_LUT_GROUP);
        const bg_lut_scratch s{table.data(), accumulate ? scratch.data() : out.data(), chunk, BG_LUT_SEPARATE};
        bg_lut_op_matvec(&w.m, x.data(), amax, out.data(), accumulate, &s);
        for (int32_t r = 0; r < rows; ++r) {
          const int32_t z = scaled(w.m, r, amax, w.dot(r, x));
          const int32_t want = accumulate ? bg_sat32(static_cast<int64_t>(residual[static_cast<size_t>(r)]) + z) : z;
          ASSERT_EQ(out[static_cast<size_t>(r)], want) << "row " << r << " chunk " << chunk << " accumulate " << accumulate;
        }
      }
  }
}

// Products of one input with the tables built once (bg_lut_op_matvecs, the attention's
// wq, wk and wv) against the checked scaling of plain sums, matrix by matrix: two and three
// matrices of different row counts (odd ones: a straight chunk's last single row), one
// multiplier each or one a row, both index widths, one chunk and several (straight and
// general). Each output holds its own partial sums.
TEST(LookupKernel, SharedInputProductsEqualEachProduct) {
  std::mt19937 rng(23);
  const int32_t cols = 100;  // 25 groups
  const int32_t amax = 40 << 16;
  const int32_t row_counts[3] = {17, 8, 5};
  for (int width : {2, 4})
    for (int chunk : {25, 16, 8, 4, 6})
      for (int count : {2, 3})
        for (const bool one_multiplier : {true, false}) {
          std::vector<Rows> w;
          std::vector<std::vector<bg_mult>> per_row;
          for (int i = 0; i < count; ++i) {
            w.emplace_back(row_counts[i], cols, chunk, rng, 2, width);
            per_row.push_back(row_scales(row_counts[i], 104729 * (i + 1)));
          }
          for (int i = 0; i < count; ++i) {
            w[i].m.scales = one_multiplier ? kOneScale : per_row[i].data();
            w[i].m.per_row = one_multiplier ? 0 : 1;
          }
          const std::vector<int8_t> x = random_codes(cols, rng);
          std::vector<std::vector<int32_t>> out(3);
          for (int i = 0; i < count; ++i) out[i].assign(static_cast<size_t>(row_counts[i]), -1);
          std::vector<uint16_t> table(static_cast<size_t>(chunk) * BG_LUT_GROUP);
          const bg_lut_scratch s{table.data(), out[0].data(), chunk, BG_LUT_SEPARATE};
          bg_lut_op_matvecs(&w[0].m, &w[1].m, count > 2 ? &w[2].m : nullptr, x.data(), amax, out[0].data(), out[1].data(),
                            count > 2 ? out[2].data() : nullptr, &s);
          for (int i = 0; i < count; ++i)
            for (int32_t r = 0; r < row_counts[i]; ++r)
              ASSERT_EQ(out[i][static_cast<size_t>(r)], scaled(w[i].m, r, amax, w[i].dot(r, x)))
                  << "matrix " << i << " of " << count << ", row " << r << ", chunk " << chunk << ", width " << width;
        }
}

}  // namespace
