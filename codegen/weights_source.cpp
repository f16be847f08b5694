// <name>_weights.cpp: every constant of an emitted model, placed in flash: the packed
// matrices as the lowered program holds them, tables, norms, RoPE, the vocabulary.
#include "codegen/cpp_emitter.h"

#include <fmt/format.h>

#include "ir/vocab.h"
#include "codegen/emit_context.h"

namespace bitgpt {

using namespace ir;

namespace {

class WeightsSource : public EmitContext {
 public:
  using EmitContext::EmitContext;

  std::string weights() const {
    const Constants& k = g_.constants;
    std::string s = banner(n_ + "_weights.cpp: every constant, placed in flash");
    s += fmt::format("#include \"bitgpt_ops.h\"\n#include \"bitgpt_tokenizer.h\"\n\n");
    s += "/* BITGPT_FLASH puts the arrays in a .rodata.bitgpt section the linker script maps to flash. */\n";
    s += "#ifndef BITGPT_FLASH\n#define BITGPT_FLASH __attribute__((section(\".rodata.bitgpt\")))\n#endif\n\n";
    s += fmt::format("/* Matrix rows are read as 16- and 32-bit words, or whole vectors, by the kernels. */\n#define BITGPT_WEIGHT_ALIGN __attribute__((aligned({})))\n\n",
                     c_.target->weight_align);
    auto table = [&](const LoweredTable& t, const std::string& sym) {
      std::string r = fmt::format("/* {}: [{} x {}] int8, per-row multipliers */\n", t.name, t.rows, t.cols);
      r += fmt::format("BITGPT_FLASH static const int8_t {}_data[{}] BITGPT_WEIGHT_ALIGN = {{{}}};\n", sym, t.data.size(), array_body(t.data));
      r += fmt::format("BITGPT_FLASH static const bg_mult {}_mult[{}] = {{{}}};\n", sym, t.row_mult.size(), mult_array(t.row_mult));
      r += fmt::format("extern const bg_table {0};\nconst bg_table {0} = {{{0}_data, {0}_mult, {1}, {2}}};\n\n", sym, t.rows, t.cols);
      return r;
    };
    s += table(k.tok_embeddings, n_ + "_tok_embeddings");
    if (k.has_pos_embeddings) s += table(k.pos_embeddings, n_ + "_pos_embeddings");
    for (size_t i = 0; i < k.matrices.size(); ++i) {
      const LoweredMatrix& m = c_.matrices[i].data;
      const std::string sym = matrix_sym(static_cast<int>(i));
      static const char* dtype_names[] = {"BG_W_TERNARY2", "BG_W_BINARY1", "BG_W_INT8", "BG_W_TERNARY_LUT4", "BG_W_TERNARY_B3", "BG_W_TERNARY_P128", "BG_W_INT8_PAIRS",
                                           "BG_W_TERNARY_LUT4W", "BG_W_INT16_QUADS"};
      s += fmt::format("/* {}: [{} x {}] {}, {} bytes per {}, {} scale{} */\n", m.name, m.rows, m.cols, dtype_names[m.dtype], m.row_bytes,
                       m.dtype == BG_W_INT8_PAIRS || m.dtype == BG_W_INT16_QUADS ? "four rows" : "row", m.per_row ? "per-row" : "one", m.per_row ? "s" : "");
      if (c_.matrices[i].tied_to_embedding)
        s += fmt::format("#define {}_data ((const uint8_t *){}_tok_embeddings_data) /* tied: the embedding codes */\n", sym, n_);
      else
        s += fmt::format("BITGPT_FLASH static const uint8_t {}_data[{}] BITGPT_WEIGHT_ALIGN = {{{}}};\n", sym, m.data.size(), array_body(m.data));
      s += fmt::format("BITGPT_FLASH static const bg_mult {}_scales[{}] = {{{}}};\n", sym, m.scales.size(), mult_array(m.scales));
      s += fmt::format("extern const bg_matrix {0};\nconst bg_matrix {0} = {{{0}_data, {0}_scales, {1}, {2}, {3}, {4}, {5}}};\n\n",
                       sym, m.rows, m.cols, m.row_bytes, dtype_names[m.dtype], m.per_row ? 1 : 0);
    }
    for (size_t i = 0; i < k.norms.size(); ++i) {
      const LoweredNorm& nm = k.norms[i];
      const std::string sym = norm_sym(static_cast<int>(i));
      std::string gain = "0", bias = "0";
      if (!nm.gain.empty()) {
        s += fmt::format("BITGPT_FLASH static const int32_t {}_gain[{}] = {{{}}};\n", sym, nm.gain.size(), array_body(nm.gain));
        gain = sym + "_gain";
      }
      if (!nm.bias.empty()) {
        s += fmt::format("BITGPT_FLASH static const int32_t {}_bias[{}] = {{{}}};\n", sym, nm.bias.size(), array_body(nm.bias));
        bias = sym + "_bias";
      }
      s += fmt::format("extern const bg_norm_params {0};\nconst bg_norm_params {0} = {{{1}, {2}, {3}, {4}, {5}LL, {6}}};  /* {7} */\n\n", sym,
                       nm.kind == BG_NORM_LAYER ? "BG_NORM_LAYER" : "BG_NORM_RMS", nm.n, gain, bias, nm.eps_q32, nm.view().gain_max, nm.name);
    }
    if (!k.rope_freq_q40.empty()) {
      s += "/* rotary frequencies per pair: turns per position, Q40 */\n";
      s += fmt::format("extern const uint64_t {0}_rope_freq[{1}];\nconst uint64_t {0}_rope_freq[{1}] = {{", n_, k.rope_freq_q40.size());
      for (uint64_t f : k.rope_freq_q40) s += fmt::format("{}ull, ", f);
      s += "};\n\n";
    }
    const LoweredVocab v = lower_vocab(g_.tokenizer);
    s += "/* the token table */\n";
    s += fmt::format("BITGPT_FLASH static const uint8_t {}_vocab_bytes[{}] = {{{}}};\n", n_, std::max<size_t>(v.bytes.size(), 1),
                     v.bytes.empty() ? "0" : array_body(v.bytes));
    s += fmt::format("BITGPT_FLASH static const uint32_t {}_vocab_offsets[{}] = {{{}}};\n", n_, v.offsets.size(), array_body(v.offsets));
    if (!v.bpe) {
      s += fmt::format("extern const bg_vocab {0}_vocab;\nconst bg_vocab {0}_vocab = {{{0}_vocab_bytes, {0}_vocab_offsets, {1}, 0, 0, 0, 0, -1, {2}}};\n", n_,
                       v.offsets.size() - 1, v.bos);
      return s;
    }
    s += "/* BPE: the tokens a code point or merge can produce, sorted by text; merge ranks (the\n"
         " * order of the checkpoint's scores, 0 = never); the byte-fallback token of each byte */\n";
    s += fmt::format("BITGPT_FLASH static const uint16_t {}_vocab_sorted[{}] = {{{}}};\n", n_, v.sorted.size(), array_body(v.sorted));
    s += fmt::format("BITGPT_FLASH static const uint16_t {}_vocab_rank[{}] = {{{}}};\n", n_, v.merge_rank.size(), array_body(v.merge_rank));
    s += fmt::format("BITGPT_FLASH static const uint16_t {}_vocab_byte_token[256] = {{{}}};\n", n_, array_body(v.byte_token));
    s += fmt::format("extern const bg_vocab {0}_vocab;\nconst bg_vocab {0}_vocab = {{{0}_vocab_bytes, {0}_vocab_offsets, {1}, {0}_vocab_sorted, {2},\n"
                     "    {0}_vocab_rank, {0}_vocab_byte_token, {3}, {4}}};\n",
                     n_, v.offsets.size() - 1, v.sorted.size(), v.dummy_prefix, v.bos);
    return s;
  }

};

}  // namespace

std::string emit_weights_source(const CompiledModel& c, const Provenance& origin) {
  return WeightsSource(c, origin).weights();
}

}  // namespace bitgpt
