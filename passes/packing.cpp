#include "passes/packing.h"

#include "support/diagnostics.h"

namespace bitgpt {

namespace {

// Ternary rows repacked as base-3 numbers, `group` weights per byte: sum_k (w_k + 1) 3^k.
// Groups of 4 are the lookup kernel's table indices, groups of 5 the compact packing.
LoweredMatrix pack_base3_groups(const LoweredMatrix& m, int group, int32_t dtype) {
  LoweredMatrix out = m;
  out.dtype = dtype;
  out.row_bytes = (m.cols + group - 1) / group;
  out.data.assign(static_cast<size_t>(out.row_bytes) * m.rows, 0);
  for (int32_t r = 0; r < m.rows; ++r)
    for (int32_t b = 0; b < out.row_bytes; ++b) {
      int value = 0;
      for (int k = group - 1; k >= 0; --k) {
        const int32_t c = group * b + k;
        const int w = c < m.cols ? bg_trit_at(m.data[static_cast<size_t>(r) * m.row_bytes + c / 4], c % 4) : 0;
        value = value * 3 + (w + 1);
      }
      out.data[static_cast<size_t>(r) * out.row_bytes + b] = static_cast<uint8_t>(value);
    }
  return out;
}

// The lookup kernel's packing: `width` bytes (2 or 4) per group of 4, the byte offset of
// the group's entry in its chunk's tables (bg_lut_offset), little-endian (as both the host and Arm are), chunk by chunk
// (bg_lut_index_at).
LoweredMatrix pack_lut_indices(const LoweredMatrix& m, int chunk, int width) {
  if (chunk > BG_LUT_MAX_CHUNK) throw Error("internal error: a table chunk of " + m.name + " has more groups than its offsets can address");
  const LoweredMatrix idx = pack_base3_groups(m, 4, width == 4 ? BG_W_TERNARY_LUT4W : BG_W_TERNARY_LUT4);
  const int32_t groups = idx.row_bytes;
  LoweredMatrix out = idx;
  out.row_bytes = width * groups;
  out.data.assign(static_cast<size_t>(out.row_bytes) * m.rows, 0);
  for (int32_t r = 0; r < m.rows; ++r)
    for (int32_t g = 0; g < groups; ++g) {
      const uint32_t v = bg_lut_offset(static_cast<uint32_t>(g % chunk), idx.data[static_cast<size_t>(r) * groups + g]);
      const auto at = static_cast<size_t>(width) * static_cast<size_t>(bg_lut_index_at(m.rows, groups, chunk, r, g));
      for (int b = 0; b < width; ++b) out.data[at + static_cast<size_t>(b)] = static_cast<uint8_t>(v >> (8 * b));
    }
  return out;
}

// The weights regrouped in blocks of 128 as 2-bit fields w + 1 (0, 1, 2): byte i of a
// block holds weights i, i + 32, i + 64, i + 96 (the row kernel's shift k gives 32
// consecutive weights, already the unsigned operands of a byte multiply).
LoweredMatrix pack_planes128(const LoweredMatrix& m) {
  if (m.cols % 128) throw Error("internal error: " + m.name + " has rows that are not whole 128-weight blocks");
  LoweredMatrix out = m;
  out.dtype = BG_W_TERNARY_P128;
  out.data.assign(m.data.size(), 0);
  for (int32_t r = 0; r < m.rows; ++r)
    for (int32_t c = 0; c < m.cols; ++c) {
      const uint32_t code = static_cast<uint32_t>(bg_trit_at(m.data[static_cast<size_t>(r) * m.row_bytes + c / 4], c % 4) + 1);
      const int32_t block = c / 128, at = c % 128;
      out.data[static_cast<size_t>(r) * m.row_bytes + 32 * block + at % 32] |= static_cast<uint8_t>(code << (2 * (at / 32)));
    }
  return out;
}

// Bytes of m's rows as int8 row pairs: a quad of rows is two int32 words a column.
int64_t int8_pairs_bytes(const LoweredMatrix& m) { return int64_t{8} * m.cols * ((m.rows + 3) / 4); }

// Int8 rows four at a time as two row pairs, one int32 word per pair and column:
// w_a + w_b * 2^24 (BG_W_INT8_PAIRS); rows past the last are 0.
LoweredMatrix pack_int8_pairs(const LoweredMatrix& m) {
  LoweredMatrix out = m;
  out.dtype = BG_W_INT8_PAIRS;
  out.row_bytes = 8 * m.cols;
  const int32_t quads = (m.rows + 3) / 4;
  out.data.assign(static_cast<size_t>(int8_pairs_bytes(m)), 0);
  auto weight = [&](int32_t r, int32_t c) -> int32_t {
    return r < m.rows ? static_cast<int8_t>(m.data[static_cast<size_t>(r) * static_cast<size_t>(m.row_bytes) + static_cast<size_t>(c)]) : 0;
  };
  for (int32_t q = 0; q < quads; ++q)
    for (int32_t c = 0; c < m.cols; ++c)
      for (int32_t pair = 0; pair < 2; ++pair) {
        const int32_t r = 4 * q + 2 * pair;
        const auto word = static_cast<uint32_t>(weight(r, c) + weight(r + 1, c) * (int32_t{1} << BG_PAIR_SHIFT));
        const size_t at = static_cast<size_t>(q) * static_cast<size_t>(out.row_bytes) + 4 * (2 * static_cast<size_t>(c) + static_cast<size_t>(pair));
        for (int b = 0; b < 4; ++b) out.data[at + static_cast<size_t>(b)] = static_cast<uint8_t>(word >> (8 * b));  // little-endian
      }
  return out;
}

// Bytes of m's rows as int16 quads: a quad of rows is 32 bytes a step of four columns.
int64_t int16_quads_bytes(const LoweredMatrix& m) { return int64_t{32} * ((m.cols + 3) / 4) * ((m.rows + 3) / 4); }

// Int8 rows widened to int16, four rows at a time, in the order SXTB16 unpacks an
// activation word into (BG_W_INT16_QUADS): for each step of four columns and each row
// of the quad the halfwords w0, w2, w1, w3; rows and columns past the last are 0.
LoweredMatrix pack_int16_quads(const LoweredMatrix& m) {
  LoweredMatrix out = m;
  out.dtype = BG_W_INT16_QUADS;
  const int32_t steps = (m.cols + 3) / 4, quads = (m.rows + 3) / 4;
  out.row_bytes = 32 * steps;
  out.data.assign(static_cast<size_t>(int16_quads_bytes(m)), 0);
  static constexpr int32_t kLaneColumn[4] = {0, 2, 1, 3};  // halfword h of a step holds column 4s + kLaneColumn[h]
  for (int32_t q = 0; q < quads; ++q)
    for (int32_t k = 0; k < 4 && 4 * q + k < m.rows; ++k)
      for (int32_t s = 0; s < steps; ++s)
        for (int32_t h = 0; h < 4; ++h) {
          const int32_t r = 4 * q + k, c = 4 * s + kLaneColumn[h];
          if (c >= m.cols) continue;
          const auto v = static_cast<uint16_t>(static_cast<int8_t>(m.data[static_cast<size_t>(r) * static_cast<size_t>(m.row_bytes) + static_cast<size_t>(c)]));
          const size_t at = static_cast<size_t>(q) * static_cast<size_t>(out.row_bytes) + static_cast<size_t>(32 * s + 8 * k + 2 * h);
          out.data[at] = static_cast<uint8_t>(v);  // little-endian
          out.data[at + 1] = static_cast<uint8_t>(v >> 8);
        }
  return out;
}

}  // namespace

bool int8_pairs_hold(const LoweredMatrix& m) {
  if (m.dtype != BG_W_INT8) return false;
  for (uint8_t b : m.data)
    if (static_cast<int8_t>(b) == -128) return false;
  return true;
}

const char* packing_name(Packing p) {
  switch (p) {
    case Packing::AsLowered: return "2bit";
    case Packing::Base3: return "base3";
    case Packing::LookupIndices: return "lut4-indices";
    case Packing::LookupWords: return "lut4-words";
    case Packing::Planes128: return "planes128";
    case Packing::Int8Pairs: return "int8-pairs";
    case Packing::Int16Quads: return "int16-quads";
  }
  return "?";
}

int64_t packed_flash_bytes(const LoweredMatrix& m, Packing p) {
  if (p == Packing::Int8Pairs && m.dtype == BG_W_INT8) return int8_pairs_bytes(m) + static_cast<int64_t>(m.scales.size() * sizeof(bg_mult));
  if (p == Packing::Int16Quads && m.dtype == BG_W_INT8) return int16_quads_bytes(m) + static_cast<int64_t>(m.scales.size() * sizeof(bg_mult));
  if (p == Packing::AsLowered || p == Packing::Planes128 || m.dtype != BG_W_TERNARY2) return m.flash_bytes();
  const int64_t groups = (m.cols + 3) / 4;
  const int64_t per_row = p == Packing::LookupIndices ? 2 * groups : p == Packing::LookupWords ? 4 * groups : (m.cols + 4) / 5;
  return per_row * m.rows + static_cast<int64_t>(m.scales.size() * sizeof(bg_mult));
}

PackedMatrix pack_matrix(const LoweredMatrix& m, Packing p, int lut_chunk) {
  PackedMatrix out;
  const bool applies = p == Packing::Int8Pairs || p == Packing::Int16Quads ? m.dtype == BG_W_INT8 : m.dtype == BG_W_TERNARY2;  // int8 rows widen, ternary ones pack
  out.packing = applies ? p : Packing::AsLowered;
  const bool lookup = out.packing == Packing::LookupIndices || out.packing == Packing::LookupWords;
  out.lut_chunk = lookup ? lut_chunk : 0;
  switch (out.packing) {
    case Packing::AsLowered: out.data = m; break;
    case Packing::Base3: out.data = pack_base3_groups(m, 5, BG_W_TERNARY_B3); break;
    case Packing::Planes128: out.data = pack_planes128(m); break;
    case Packing::Int8Pairs:
      if (!int8_pairs_hold(m)) throw Error("internal error: " + m.name + " has an int8 weight of -128, which row pairs cannot hold");
      out.data = pack_int8_pairs(m);
      break;
    case Packing::Int16Quads: out.data = pack_int16_quads(m); break;
    case Packing::LookupIndices:
    case Packing::LookupWords:
      if (lut_chunk < 1) throw Error("internal error: lookup indices of " + m.name + " without a table chunk");
      out.data = pack_lut_indices(m, lut_chunk, out.packing == Packing::LookupWords ? 4 : 2);
      break;
  }
  if (out.data.flash_bytes() != packed_flash_bytes(m, out.packing))
    throw Error("internal error: the packed size of " + m.name + " differs from the plan's");
  return out;
}

}  // namespace bitgpt
