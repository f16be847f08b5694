// How each weight matrix is laid out in flash, and the bytes themselves. Ternary matrices
// are lowered at 2 bits per weight; a matrix may instead be stored five weights per byte
// (base 3, 1.6 bits per weight, decoded by the row kernel), when the lookup kernel reads
// it as 16-bit table indices (one per group of 4 weights) or, where the flash has room on a
// core that loads them four at a time, the same indices in 32-bit words, or for a vector row kernel that
// wants them (x86-64 AVX2/AVX-512, Helium) in blocks of 128 weights whose bytes hold fields 32 weights apart;
// int8 matrices may be stored as row pairs in 32-bit words (Armv7-M without DSP) or widened
// to int16 four rows at a time (the SMLAD row kernel). Packing is decided by the
// pipeline (flash budget, kernel choice) and done once here: the flash figures of the plan
// are the sizes of these bytes, and every backend emits them as they are.
#pragma once

#include <cstdint>

#include "ir/constants.h"

namespace bitgpt {

enum class Packing {
  AsLowered,      // the lowered form: 2 bits per ternary weight, or the matrix's int8 / binary rows
  Base3,          // five ternary weights per byte
  LookupIndices,  // the lookup kernel's 16-bit indices: the byte offsets bg_lut_offset(group mod chunk, code)
  LookupWords,    // the same entries in 32-bit words (BG_W_TERNARY_LUT4W; 8 bits a weight): an LDM loads four
  Planes128,      // 2 bits per weight in blocks of 128, a byte's four fields 32 weights apart (BG_W_TERNARY_P128)
  Int8Pairs,      // int8 rows as row pairs in 32-bit words, for SMLAL (BG_W_INT8_PAIRS; 2 bytes a weight)
  Int16Quads,     // int8 rows widened to int16 in SXTB16's lanes, four rows a block, for SMLAD (BG_W_INT16_QUADS; 2 bytes a weight)
};
const char* packing_name(Packing p);

// A matrix as it is stored: the packing and the packed rows (dtype and row_bytes updated).
struct PackedMatrix {
  Packing packing = Packing::AsLowered;
  int lut_chunk = 0;  // LookupIndices, LookupWords: groups of 4 per table chunk
  LoweredMatrix data;
  bool tied_to_embedding = false;  // its codes are the embedding table's: emitted and counted once, there
};

// The flash bytes of m (rows and scales) in packing p, without packing it.
int64_t packed_flash_bytes(const LoweredMatrix& m, Packing p);

// Whether int8 matrix m can be stored as row pairs: every weight within +-127.
bool int8_pairs_hold(const LoweredMatrix& m);

// Packs matrix m (a ternary packing of a ternary matrix, Int8Pairs or Int16Quads of an int8 one);
// AsLowered, or a packing of another kind of matrix, returns it unchanged.
PackedMatrix pack_matrix(const LoweredMatrix& m, Packing p, int lut_chunk);

}  // namespace bitgpt
