// <name>.cpp: the forward pass of an emitted model (one function per step of the lowered
// program, the arena and KV cache with their planned sizes) and its C API.
#include "codegen/cpp_emitter.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "codegen/step_source.h"

namespace bitgpt {

using namespace ir;

namespace {

class ForwardSource : public StepSource {
 public:
  using StepSource::StepSource;

  int64_t arena_bytes() const { return std::max<int64_t>(c_.arena.bytes, 8); }

  // The arena as a static array, or the caller's buffer with the offsets of its parts.
  std::string arena_declaration() const {
    if (!c_.caller_memory)
      return fmt::format("/* The arena: {0} bytes shared by every buffer below, placed by liveness. */\n"
                         "alignas(8) BITGPT_ARENA_SECTION uint8_t arena[{0}];",
                         arena_bytes());
    const CallerLayout m = caller_layout();
    return fmt::format(R"(/* The caller's memory ({0}_init): {1} bytes, 8-byte aligned, holding the arena ({2}
 * bytes, shared by every buffer below, placed by liveness), the state, the prompt buffer,
 * the KV scales and the KV codes. This pointer is the model's only static RAM. */
uint8_t *ram;
#define arena ram
constexpr uint32_t STATE_AT = {3},{4} KV_K_SCALE_AT = {5}, KV_V_SCALE_AT = {6}, KV_K_AT = {7}, KV_V_AT = {8}, RAM_BYTES = {1};)",
                       n_, m.total, arena_bytes(), m.state, bpe() ? fmt::format(" PROMPT_AT = {},", m.prompt) : std::string(), m.k_scale,
                       m.v_scale, m.k, m.v);
  }

  std::string forward() const {
    const Liveness& lv = c_.liveness;
    const bg_attn_shape a = g_.attn_shape();
    std::string s = banner(n_ + ".cpp: the forward pass and the C API");
    if (c_.row_kernel == Kernel::Helium) s += "\n/* The target has Helium: dot products use MVE (bitgpt_mve.h). */\n#define BITGPT_KERNEL_MVE 1\n";
    if (c_.row_kernel == Kernel::Smlad) s += "\n/* The target has the DSP extension: dot products use SMLAD (bitgpt_smlad.h). */\n#define BITGPT_KERNEL_SMLAD 1\n";
    if (c_.any_packing(Packing::LookupWords))
      s += c_.any_packing(Packing::LookupIndices)
               ? "\n/* Lookup table indices in 32-bit words for some matrices, halfwords for the others (bitgpt_lut.h). */\n#define BITGPT_LUT_WORDS 2\n"
               : "\n/* Lookup table indices stored in 32-bit words, four loaded at a time (bitgpt_lut.h). */\n#define BITGPT_LUT_WORDS 1\n";
    if (c_.any_packing(Packing::Int8Pairs)) s += "\n/* int8 rows stored as row pairs: their kernel (bitgpt_rows.h). */\n#define BITGPT_INT8_PAIRS 1\n";
    if (c_.any_packing(Packing::Int16Quads)) s += "\n/* int8 rows stored as int16 quads: their kernel (bitgpt_rows.h). */\n#define BITGPT_INT16_QUADS 1\n";
    s += fmt::format(R"(
#include "{0}.h"

#include <string.h>

#include "bitgpt_fused.h"
#include "bitgpt_lut.h"
#include "bitgpt_tokenizer.h"

/* ---- constants in flash ({0}_weights.cpp) ---- */
)", n_);
    for (size_t i = 0; i < g_.constants.matrices.size(); ++i) s += fmt::format("extern const bg_matrix {};\n", matrix_sym(static_cast<int>(i)));
    for (size_t i = 0; i < g_.constants.norms.size(); ++i) s += fmt::format("extern const bg_norm_params {};\n", norm_sym(static_cast<int>(i)));
    s += fmt::format("extern const bg_table {}_tok_embeddings;\n", n_);
    if (g_.constants.has_pos_embeddings) s += fmt::format("extern const bg_table {}_pos_embeddings;\n", n_);
    if (!g_.constants.rope_freq_q40.empty()) s += fmt::format("extern const uint64_t {}_rope_freq[{}];\n", n_, g_.constants.rope_freq_q40.size());
    s += fmt::format("extern const bg_vocab {}_vocab;\n\n", n_);

    s += fmt::format(R"(namespace {{

/* ---- SRAM, every byte planned at compile time ----
 * {1}
 * budget {2} bytes */

/* Where each part of the RAM goes: the default sections of the toolchain, unless the
 * build defines these (see the memory contract in the header). */
#ifndef BITGPT_ARENA_SECTION
#define BITGPT_ARENA_SECTION
#endif
#ifndef BITGPT_KV_SECTION
#define BITGPT_KV_SECTION
#endif
#ifndef BITGPT_STATE_SECTION
#define BITGPT_STATE_SECTION
#endif

{3}
#define ACT(off) ((int32_t *)(arena + (off)))
#define AMAX(off) (*(int32_t *)(arena + (off)))
#define CODES(off) ((int8_t *)(arena + (off) + 4))

)", arena_bytes(), describe_cost(c_.fit.cost), c_.sram_budget, arena_declaration());
    s += "/*        buffer                                offset       bytes   live steps */\n";
    // With a layer loop, the later layers' buffers are layer 0's offsets again: listed, not named.
    std::vector<bool> named(lv.buffers.size(), !c_.layer_loop);
    for (size_t i = 0; i < c_.steps.size(); ++i) {
      const int at = static_cast<int>(i);
      const bool emitted = !c_.layer_loop || at < c_.layer_loop->begin + c_.layer_loop->steps_per_layer ||
                           at >= c_.layer_loop->begin + c_.layer_loop->layers * c_.layer_loop->steps_per_layer;
      for (const auto* list : {&c_.steps[i].inputs, &c_.steps[i].outputs, &c_.steps[i].scratch})
        for (const Operand& o : *list) named[static_cast<size_t>(o.buffer)] = named[static_cast<size_t>(o.buffer)] || emitted;
    }
    for (size_t b = 0; b < lv.buffers.size(); ++b) {
      const Buffer& buf = lv.buffers[b];
      const std::string name = fmt::format("OFF_{}_{}", b, c_ident(buf.name));
      if (named[b])
        s += fmt::format("constexpr uint32_t {:<36} = {:6};  /* {:6}  {:3}..{:<3} */\n", name, c_.arena.offsets[b], buf.bytes, buf.first_step, buf.last_step);
      else
        s += fmt::format("/*       {:<36}   {:6}     {:6}  {:3}..{:<3}  (a later layer, run at layer 0's offsets) */\n", name, c_.arena.offsets[b],
                         buf.bytes, buf.first_step, buf.last_step);
    }
    const int64_t rb = bg_kv_row_bytes(&a);
    const int64_t slots = g_.window * g_.arch.n_kv_heads;
    s += fmt::format(R"(
/* The KV cache: {0} layers x {1} slots (a ring over the last {1} positions) x {2} KV heads,
 * {3}-bit codes ({4} bytes per head vector) and a 16-bit scale per vector. */
)", g_.arch.n_layers, g_.window, g_.arch.n_kv_heads, g_.kv_bits, rb);
    if (!c_.caller_memory) {
      s += fmt::format(R"(BITGPT_KV_SECTION uint8_t kv_k[{0}][{1}];
BITGPT_KV_SECTION uint8_t kv_v[{0}][{1}];
BITGPT_KV_SECTION uint16_t kv_k_scale[{0}][{2}];
BITGPT_KV_SECTION uint16_t kv_v_scale[{0}][{2}];
const bg_kv_layer kv[{0}] = {{
)", g_.arch.n_layers, slots * rb, slots);
      for (int64_t l = 0; l < g_.arch.n_layers; ++l) s += fmt::format("    {{kv_k[{0}], kv_v[{0}], kv_k_scale[{0}], kv_v_scale[{0}]}},\n", l);
      s += "};\n";
    } else {
      s += fmt::format(R"(/* Layer l's part of it, in the caller's memory. */
inline bg_kv_layer kv_at(int32_t l) {{
  const bg_kv_layer k = {{ram + KV_K_AT + l * {0}, ram + KV_V_AT + l * {0}, (uint16_t *)(ram + KV_K_SCALE_AT) + l * {1},
                         (uint16_t *)(ram + KV_V_SCALE_AT) + l * {1}}};
  return k;
}}
)", slots * rb, slots);
    }
    s += fmt::format(R"(const bg_attn_shape attn = {{{}, {}, {}, {}, {}, {{{}, {}}}}};

/* Runtime state. */
struct state_t {{
  int32_t position; /* of the next token fed */
  int32_t token;    /* being fed */
  uint64_t rng;
  uint64_t checksum;
}};
static_assert(sizeof(state_t) == {}, "the compiler's SRAM plan counts this many bytes of state");
{}{}
/* Each step stays a function of its own: inlined into one another, their stack frames
 * would add up instead of taking turns (on Armv6-M, 2 KiB instead of a few hundred bytes). */
#if defined(__GNUC__)
#define BITGPT_STEP __attribute__((noinline))
#else
#define BITGPT_STEP
#endif

)", a.n_heads, a.n_kv_heads, a.head_dim, a.window, a.kv_bits, a.score_mult.m, a.score_mult.shift, kRuntimeStateBytes,
        c_.caller_memory ? "#define st (*(state_t *)(ram + STATE_AT))\n" : "BITGPT_STATE_SECTION state_t st;\n",
        !bpe()            ? std::string()
        : c_.caller_memory ? std::string("\n/* The prompt buffer: BPE merges a whole prompt in place. */\n#define prompt_tokens ((int32_t *)(ram + PROMPT_AT))\n")
                          : fmt::format("\n/* The prompt buffer: BPE merges a whole prompt in place, one token per byte plus the\n"
                                        " * dummy prefix to start with. */\nBITGPT_STATE_SECTION int32_t prompt_tokens[{}];\n",
                                        c_.max_prompt_bytes + 1));

    const int total = static_cast<int>(g_.ops.size());
    const int loop_begin = c_.layer_loop ? c_.layer_loop->begin : total;
    const int loop_end = c_.layer_loop ? loop_begin + c_.layer_loop->layers * c_.layer_loop->steps_per_layer : total;
    for (int i = 0; i < total; ++i) {
      if (i == loop_begin) s += layer_loop_functions();
      if (i >= loop_begin && i < loop_end) continue;
      const Op& op = g_.ops[i];
      const bool returns = op.chooses_token();
      s += op_comment(op, i);
      s += fmt::format("BITGPT_STEP {} step_{:03}_{}({}) {{\n{}}}\n\n", returns ? "int32_t" : "void", i, c_ident(op.label),
                       returns ? "int32_t temperature_q16" : "void", step_body(c_.steps[static_cast<size_t>(i)]));
    }
    s += "}  // namespace\n\n";

    // The API.
    s += "extern \"C\" {\n\n";
    if (c_.caller_memory)
      s += fmt::format(R"(int {0}_init(void *memory, uint32_t bytes) {{
  if (!memory || ((uintptr_t)memory & 7u) || bytes < RAM_BYTES) return -1;
  ram = (uint8_t *)memory;
  {0}_reset(0);
  return 0;
}}

)", n_);
    s += fmt::format("void {}_reset(uint64_t seed) {{\n", n_);
    if (c_.caller_memory) {
      s += "  memset(ram, 0, RAM_BYTES);\n";
    } else {
      s += "  memset(arena, 0, sizeof arena);\n  memset(kv_k, 0, sizeof kv_k);\n  memset(kv_v, 0, sizeof kv_v);\n";
      s += "  memset(kv_k_scale, 0, sizeof kv_k_scale);\n  memset(kv_v_scale, 0, sizeof kv_v_scale);\n";
    }
    s += "  st.position = 0;\n  st.token = 0;\n  st.rng = seed;\n  st.checksum = BG_FNV_OFFSET;\n}\n\n";
    s += fmt::format("int {}_feed(int32_t token) {{\n  if (token < 0 || token >= {}) return -1;\n", n_, g_.arch.vocab_size);
    if (g_.constants.has_pos_embeddings) s += fmt::format("  if (st.position >= {}) return -2;\n", g_.arch.max_seq_len);
    s += "  st.token = token;\n";
    for (int i = 0; i < g_.next_stage_begin; ++i) {
      if (i == loop_begin) s += fmt::format("  for (int32_t l = 0; l < {}; ++l) run_layer(&layers[l]);\n", c_.layer_loop->layers);
      if (i < loop_begin || i >= loop_end) s += fmt::format("  step_{:03}_{}();\n", i, c_ident(g_.ops[i].label));
    }
    s += "  st.position += 1;\n  return 0;\n}\n\n";
    s += fmt::format("int32_t {}_next(int32_t temperature_q16) {{\n", n_);
    for (int i = g_.next_stage_begin; i < total; ++i) {
      const bool returns = g_.ops[i].chooses_token();
      s += fmt::format("  {}step_{:03}_{}({});\n", returns ? "return " : "", i, c_ident(g_.ops[i].label), returns ? "temperature_q16" : "");
    }
    s += "}\n\n";
    s += fmt::format(R"(uint64_t {0}_logits_checksum(void) {{ return st.checksum; }}

const char *{0}_token_text(int32_t token, int32_t *len) {{ return bg_token_text(&{0}_vocab, token, len); }}

const char *{0}_decode(int32_t prev, int32_t token, int32_t *len) {{ return bg_decode(&{0}_vocab, prev, token, len); }}

int32_t {0}_encode(const char *text, int32_t n, int32_t *tokens, int32_t max_tokens, int32_t *bad_offset) {{
  return bg_encode(&{0}_vocab, text, n, tokens, max_tokens, bad_offset);
}}
{1}
int32_t {0}_parse_temperature(const char *text) {{ return bg_parse_q16(text); }}

const char *{0}_provenance(void) {{ return "{2}"; }}

}}  /* extern "C" */
)", n_, feed_text(), provenance_text());
    return s;
  }

  // What <name>_provenance returns: a C string literal's contents.
  std::string provenance_text() const {
    const std::string s = made_by(origin_);
    std::string escaped;
    for (char ch : s) escaped += (ch == '"' || ch == '\\') ? std::string("\\") + ch : std::string(1, ch);
    return escaped;
  }

  // <name>_feed_text: the runtime's bg_feed_text, with the planned prompt buffer for BPE.
  std::string feed_text() const {
    return fmt::format(R"(
int32_t {0}_feed_text(const char *text, int32_t n, int32_t *bad_offset) {{
  return bg_feed_text(&{0}_vocab, text, n, bad_offset, {1}, {2}, {0}_feed);
}}
)", n_, bpe() ? "prompt_tokens" : "0", bpe() ? n_ + "_MAX_PROMPT_BYTES" : "0");
  }

};

}  // namespace

std::string emit_forward_source(const CompiledModel& c, const Provenance& origin) {
  return ForwardSource(c, origin).forward();
}

}  // namespace bitgpt
