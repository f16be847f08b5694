// The attention kernel's weighted value sum against the products written out: 8- and
// 4-bit cached values, weights that fit 32 bits (the SMLAL paths) and weights that do not,
// even and odd head sizes.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "runtime/bitgpt_ops.h"

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
        for (int32_t p : {1, 65536, 40000}) {
          std::vector<int64_t> acc(head_dim, 3);  // sums so far
          bg_attn_accumulate(&c, &a, 0, 0, p, acc.data());
          const int64_t w = static_cast<int64_t>(p) * bg_scale16_decode(scale);
          for (int32_t i = 0; i < head_dim; ++i)
            ASSERT_EQ(acc[i], 3 + w * codes[i]) << "bits " << bits << " head_dim " << head_dim << " w " << w << " element " << i;
        }
      }
    }
}

}  // namespace
