// The lookup-table kernel against plain sums: every way it keeps partial sums between
// chunks (none, own scratch, the output itself, int16 pairs in the output).
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "runtime/bitgpt_lut.h"

namespace {

struct Rows {
  int32_t rows, cols;
  std::vector<int> trits;       // rows x cols, -1..1
  std::vector<uint16_t> packed; // rows x groups: (g mod chunk) * BG_LUT_GROUP + bg_lut_entry(code)
  bg_matrix m{};

  Rows(int32_t r, int32_t c, int chunk, std::mt19937& rng, int fixed = 2) : rows(r), cols(c), trits(static_cast<size_t>(r) * c) {
    std::uniform_int_distribution<int> trit(-1, 1);
    for (int& t : trits) t = fixed == 2 ? trit(rng) : fixed;
    const int32_t groups = (cols + 3) / 4;
    for (int32_t i = 0; i < rows; ++i)
      for (int32_t g = 0; g < groups; ++g) {
        int index = 0;
        for (int k = 3; k >= 0; --k) index = 3 * index + (4 * g + k < cols ? trits[static_cast<size_t>(i) * cols + 4 * g + k] + 1 : 1);
        packed.push_back(static_cast<uint16_t>((g % chunk) * BG_LUT_GROUP + bg_lut_entry(static_cast<uint32_t>(index))));
      }
    m.data = reinterpret_cast<const uint8_t*>(packed.data());
    m.rows = rows;
    m.cols = cols;
    m.row_bytes = 2 * groups;
    m.dtype = BG_W_TERNARY_LUT4;
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

// Runs bg_lut_matvec with `partial` (or none) and checks every row's sums.
void check(const Rows& w1, const Rows* w3, const std::vector<int8_t>& x, int chunk, int32_t* partial, int paired) {
  std::vector<uint16_t> table(static_cast<size_t>(chunk) * BG_LUT_GROUP);
  const bg_lut_scratch s{table.data(), partial, chunk, paired};
  Seen seen{std::vector<int32_t>(w1.rows), std::vector<int32_t>(w1.rows)};
  bg_lut_matvec(&w1.m, w3 ? &w3->m : nullptr, x.data(), &s, record, &seen);
  for (int32_t r = 0; r < w1.rows; ++r) {
    ASSERT_EQ(seen.d1[r], w1.dot(r, x)) << "row " << r << " chunk " << chunk;
    if (w3) {
      ASSERT_EQ(seen.d3[r], w3->dot(r, x)) << "row " << r << " chunk " << chunk;
    }
  }
}

std::vector<int8_t> random_codes(int32_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int> code(-127, 127);
  std::vector<int8_t> x(n);
  for (int8_t& v : x) v = static_cast<int8_t>(code(rng));
  return x;
}

TEST(LookupKernel, OneChunkAndPartialSumsInScratch) {
  std::mt19937 rng(7);
  // 75 groups: one chunk; 16, 8 and 4: chunks summed as straight code, then a last chunk
  // of 11, 3 and 3 groups summed in the general form; 3: partial sums, general form only
  for (int chunk : {75, 16, 8, 4, 3}) {
    const Rows w1(37, 299, chunk, rng), w3(37, 299, chunk, rng);
    const std::vector<int8_t> x = random_codes(299, rng);
    std::vector<int32_t> partial(2 * 37);
    check(w1, &w3, x, chunk, partial.data(), 0);
    check(w1, nullptr, x, chunk, partial.data(), 0);
  }
}

TEST(LookupKernel, PartialSumsInTheOutputAndAsInt16Pairs) {
  std::mt19937 rng(11);
  for (int chunk : {5, 16, 8, 4}) {  // 33 groups: a last chunk of 3, 1, 1 and 1 groups
    const Rows w1(21, 130, chunk, rng), w3(21, 130, chunk, rng);
    const std::vector<int8_t> x = random_codes(130, rng);
    std::vector<int32_t> out(21);  // the output doubles as the partial sums
    check(w1, nullptr, x, chunk, out.data(), 0);
    check(w1, &w3, x, chunk, out.data(), 1);
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

}  // namespace
