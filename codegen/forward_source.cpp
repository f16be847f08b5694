// <name>.cpp: the forward pass of an emitted model (one function per step of the lowered
// program, the arena and KV cache with their planned sizes) and its C API.
#include "codegen/cpp_emitter.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "codegen/emit_context.h"

namespace bitgpt {

using namespace ir;

namespace {

class ForwardSource : public EmitContext {
 public:
  using EmitContext::EmitContext;

  // ---- the layer loop (passes/program.h, LayerLoop) ----
  // A layer table field: a name for matrix or norm `index` of layer 0, the same for the
  // matching entry of every layer.
  struct Field {
    bool norm;
    int slot;    // the layer step (0 .. steps_per_layer)
    int which;   // 0: op.matrix, 1: op.matrix2, 2: op.norm
    std::string name;
  };

  // "layers.2.attn.wq" at layer 2 -> "attn_wq": the name without its layer number (and the
  // word before it, when that says "layer").
  static std::string strip_layer(const std::string& name, int layer) {
    std::vector<std::string> parts;
    for (size_t at = 0;;) {
      const size_t dot = name.find('.', at);
      parts.push_back(name.substr(at, dot == std::string::npos ? std::string::npos : dot - at));
      if (dot == std::string::npos) break;
      at = dot + 1;
    }
    for (size_t i = 0; i < parts.size(); ++i)
      if (parts[i] == std::to_string(layer)) {
        const bool word = i > 0 && (parts[i - 1] == "layers" || parts[i - 1] == "layer" || parts[i - 1] == "blk" || parts[i - 1] == "blocks");
        parts.erase(parts.begin() + static_cast<std::ptrdiff_t>(i));
        if (word) parts.erase(parts.begin() + static_cast<std::ptrdiff_t>(i - 1));
        break;
      }
    std::string r;
    for (const std::string& p : parts) r += (r.empty() ? "" : "_") + c_ident(p);
    return r;
  }

  const Op& layer_op(int layer, int slot) const {
    const LayerLoop& loop = *c_.layer_loop;
    return g_.ops[c_.steps[static_cast<size_t>(loop.begin + layer * loop.steps_per_layer + slot)].op];
  }
  static int entry(const Op& op, int which) { return which == 0 ? op.matrix : which == 1 ? op.matrix2 : op.norm; }
  std::string entry_name(const Op& op, int which) const {
    return which == 2 ? g_.constants.norms[op.norm].name : g_.constants.matrices[entry(op, which)].name;
  }

  // The fields of the layer table: named from the weights' own names where every layer
  // names them alike, else by position.
  std::vector<Field> layer_fields() const {
    const LayerLoop& loop = *c_.layer_loop;
    std::vector<Field> fields;
    bool named = true;
    for (int j = 0; j < loop.steps_per_layer; ++j)
      for (int which = 0; which < 3; ++which) {
        if (entry(layer_op(0, j), which) < 0) continue;
        Field f{which == 2, j, which, strip_layer(entry_name(layer_op(0, j), which), 0)};
        for (int l = 1; l < loop.layers; ++l) named = named && strip_layer(entry_name(layer_op(l, j), which), l) == f.name;
        for (const Field& other : fields) named = named && other.name != f.name;
        named = named && !f.name.empty() && f.name != "kv";
        fields.push_back(f);
      }
    if (!named)
      for (Field& f : fields) f.name = fmt::format("{}{}{}", f.norm ? "norm" : "w", f.slot, f.which == 1 ? "b" : "");
    return fields;
  }

  std::string field_of(int index, bool norm) const {
    for (const Field& f : *layer_fields_)
      if (f.norm == norm && entry(layer_op(0, f.slot), f.which) == index) return f.name;
    return "?";
  }

  // The layer table, one function per layer step (layer 0's, with its weights read from
  // the table), and run_layer.
  std::string layer_loop_functions() const {
    const LayerLoop& loop = *c_.layer_loop;
    const std::vector<Field> fields = layer_fields();
    std::string s = fmt::format(
        "/* ---- the layers ----\n * Every layer runs the same {} steps with its buffers at the same arena offsets (named\n"
        " * after layer 0's below); only its weights, norms and KV cache differ: one row each. */\n",
        loop.steps_per_layer);
    s += "struct layer_t {\n";
    for (const Field& f : fields) s += fmt::format("  const {} *{};\n", f.norm ? "bg_norm_params" : "bg_matrix", f.name);
    s += c_.caller_memory ? "  int32_t layer; /* its part of the KV cache: kv_at(layer) */\n};\n" : "  const bg_kv_layer *kv;\n};\n";
    s += fmt::format("const layer_t layers[{}] = {{\n", loop.layers);
    for (int l = 0; l < loop.layers; ++l) {
      s += fmt::format("    {{/* layer {} */\n", l);
      for (const Field& f : fields) {
        const int index = entry(layer_op(l, f.slot), f.which);
        s += "     &" + (f.norm ? norm_sym(index) : matrix_sym(index)) + ",\n";
      }
      s += c_.caller_memory ? fmt::format("     {}}},\n", l) : fmt::format("     &kv[{}]}},\n", l);
    }
    s += "};\n\n";
    layer_fields_ = &fields;
    std::string calls;
    for (int j = 0; j < loop.steps_per_layer; ++j) {
      const int i = loop.begin + j;
      const Op& op = g_.ops[static_cast<size_t>(i)];
      std::string label = op.label;
      const std::string prefix = "l0.";
      for (size_t at = label.find(prefix); at != std::string::npos; at = label.find(prefix)) label.erase(at, prefix.size());
      const std::string fn = fmt::format("layer_step_{:02}_{}", j, c_ident(label));
      s += op_comment(op, i);
      const std::string body = step_body(c_.steps[static_cast<size_t>(i)]);
      const bool reads_layer = body.find("L->") != std::string::npos;  // else the parameter stays unnamed
      s += fmt::format("BITGPT_STEP void {}(const layer_t *{}) {{\n{}}}\n\n", fn, reads_layer ? "L" : "", body);
      calls += fmt::format("  {}(L);\n", fn);
    }
    layer_fields_ = nullptr;
    return s + "/* One layer: its steps in order. */\nvoid run_layer(const layer_t *L) {\n" + calls + "}\n\n";
  }

  mutable const std::vector<Field>* layer_fields_ = nullptr;  // set while emitting the layer steps

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
constexpr uint32_t STATE_AT = {3}, PROMPT_AT = {4}, KV_K_SCALE_AT = {5}, KV_V_SCALE_AT = {6}, KV_K_AT = {7}, KV_V_AT = {8}, RAM_BYTES = {1};)",
                       n_, m.total, arena_bytes(), m.state, m.prompt, m.k_scale, m.v_scale, m.k, m.v);
  }

  // ---- named pointers: each step starts by naming the arena views it uses ----
  // The local name of value v: its IR name without the layer prefix ("l0.attn_norm.q8"
  // -> "attn_norm_q8"), made unique within the step.
  std::string local(ValueId v, const std::string& suffix) const {
    std::string name = g_.values[v].name;
    if (name.size() > 1 && name[0] == 'l') {
      size_t i = 1;
      while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i]))) ++i;
      if (i > 1 && i < name.size() && name[i] == '.') name = name.substr(i + 1);
    }
    std::string base = c_ident(name) + suffix;
    if (base == "L" || base == "lut" || base == "attn" || base == "kv" || base == "st" || base == "arena") base += "_";
    std::string unique = base;
    for (int k = 2; locals_.count(unique) && locals_.at(unique) != std::make_pair(v, suffix); ++k) unique = fmt::format("{}{}", base, k);
    return unique;
  }
  // Declares `type *name = init;` once per step and returns the name.
  std::string declare(ValueId v, const std::string& suffix, const std::string& type, const std::string& init) const {
    const std::string name = local(v, suffix);
    if (!locals_.count(name)) {
      locals_[name] = {v, suffix};
      decls_.push_back({operand_rank(v) * 2 + (suffix.empty() ? 0 : 1), fmt::format("  {} *{} = {};  /* {} */\n", type, name, init, vname(v))});
    }
    return name;
  }
  std::string act(ValueId v) const { return declare(v, "", "int32_t", EmitContext::act(v)); }
  std::string codes(ValueId v) const { return declare(v, "", "int8_t", EmitContext::codes(v)); }
  std::string amax_ptr(ValueId v) const { return declare(v, "_amax", "int32_t", "&" + EmitContext::amax(v)); }
  std::string amax(ValueId v) const { return "*" + amax_ptr(v); }
  std::string scratch(ValueId v, const std::string& type) const {
    return declare(v, "", type, fmt::format("({} *)(arena + {})", type, off(v)));
  }
  // Declarations go in the op's operand order: inputs, outputs, scratch.
  int operand_rank(ValueId v) const {
    int rank = 0;
    for (const auto* list : {&current_->inputs, &current_->outputs, &current_->scratch})
      for (ValueId u : *list) {
        if (u == v) return rank;
        ++rank;
      }
    return rank;
  }
  // The body of a step: its named pointers, then its call.
  std::string step_body(const Step& step) const {
    decls_.clear();
    locals_.clear();
    current_ = &g_.ops[step.op];
    const std::string call = step_call(step);
    std::stable_sort(decls_.begin(), decls_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string s;
    for (const auto& d : decls_) s += d.second;
    return s + call;
  }
  mutable const Op* current_ = nullptr;
  mutable std::vector<std::pair<int, std::string>> decls_;
  mutable std::map<std::string, std::pair<ValueId, std::string>> locals_;

  // How a step names its weights, norms and KV cache: the constants themselves, or inside
  // the layer loop the fields of the layer's table row.
  std::string mat(int matrix) const { return layer_fields_ ? "L->" + field_of(matrix, false) : "&" + matrix_sym(matrix); }
  std::string nrm(int norm) const { return layer_fields_ ? "L->" + field_of(norm, true) : "&" + norm_sym(norm); }
  std::string kvl(int layer) const {
    if (!c_.caller_memory) return layer_fields_ ? "L->kv" : fmt::format("&kv[{}]", layer);
    // the caller's memory: the layer's cache pointers computed at the top of the step
    decls_.push_back({-1, fmt::format("  const bg_kv_layer cache = kv_at({});  /* this layer's KV cache */\n", layer_fields_ ? "L->layer" : std::to_string(layer))});
    return "&cache";
  }
  static const char* store_flag(const Op& op) { return op.accumulate ? "BG_ACCUMULATE" : "BG_STORE"; }

  std::string step_call(const Step& step) const {
    const Op& op = g_.ops[step.op];
    const std::string pos = "st.position";
    const std::string copy_first = step.copy_first_input ? fmt::format("  memcpy({}, {}, {});  /* not in place: copy, then update */\n",
                                                                       act(op.outputs[0]), act(op.inputs[0]), g_.values[op.inputs[0]].bytes())
                                                         : std::string();
    const bool lookup = op.kernel == Kernel::Lookup;
    const int32_t n_in = op.inputs.empty() ? 0 : static_cast<int32_t>(g_.values[op.inputs[0]].elements);
    switch (op.kind) {
      case OpKind::Embed:
        return fmt::format("  bg_op_embed({}, &{}_tok_embeddings, {}, st.token, {});\n", act(op.outputs[0]), n_,
                           g_.constants.has_pos_embeddings ? "&" + n_ + "_pos_embeddings" : "0", pos);
      case OpKind::Norm:
        return fmt::format("  bg_op_norm({}, {}, {});\n", act(op.inputs[0]), nrm(op.norm), act(op.outputs[0]));
      case OpKind::Quantize:
        return fmt::format("  bg_op_quantize({}, {}, {}, {});\n", act(op.inputs[0]), n_in, codes(op.outputs[0]), amax_ptr(op.outputs[0]));
      case OpKind::NormQuantize:
        if (!op.scratch.empty() || step.normalise_over_input)  // normalised values to scratch, or over the dying input
          return fmt::format("  bg_fused_norm_quantize_via({0}, {1}, {2}, {3}, {4});\n", act(op.inputs[0]), nrm(op.norm),
                             op.scratch.empty() ? act(op.inputs[0]) : act(op.scratch[0]), codes(op.outputs[0]), amax_ptr(op.outputs[0]));
        return fmt::format("  bg_fused_norm_quantize({}, {}, {}, {});\n", act(op.inputs[0]), nrm(op.norm), codes(op.outputs[0]),
                           amax_ptr(op.outputs[0]));
      case OpKind::MatMul: {
        const ValueId x = op.matrix_input();
        if (lookup)
          return copy_first + lut_scratch(step) +
                 fmt::format("  bg_lut_op_matvec({}, {}, {}, {}, {}, &lut);\n", mat(op.matrix), codes(x), amax(x), act(op.outputs[0]), store_flag(op));
        return copy_first + fmt::format("  bg_op_matvec({}, {}, {}, {}, {});\n", mat(op.matrix), codes(x), amax(x), act(op.outputs[0]), store_flag(op));
      }
      case OpKind::FfnUp:
        return (lookup ? lut_scratch(step) : "") +
               fmt::format("  {}({}, {}, {}, {}, {}, {}{});\n", lookup ? "bg_lut_fused_ffn_up" : "bg_fused_ffn_up", mat(op.matrix),
                           op.matrix2 >= 0 ? mat(op.matrix2) : "0", activation_name(op.activation), codes(op.inputs[0]),
                           amax(op.inputs[0]), act(op.outputs[0]), lookup ? ", &lut" : "");
      case OpKind::Add:
        return fmt::format("  bg_op_add({}, {}, {}, {});\n", act(op.inputs[0]), act(op.inputs[1]), act(op.outputs[0]), n_in);
      case OpKind::Mul:
        return fmt::format("  bg_op_mul({}, {}, {}, {});\n", act(op.inputs[0]), act(op.inputs[1]), act(op.outputs[0]), n_in);
      case OpKind::Activation:
        return fmt::format("  bg_op_activation({}, {}, {}, {});\n", activation_name(op.activation), act(op.inputs[0]), act(op.outputs[0]), n_in);
      case OpKind::Rope:
        return copy_first + fmt::format("  bg_op_rope({}, {}, {}, {});\n", act(op.outputs[0]), op.heads, g_.arch.head_dim, act(op.inputs[1]));
      case OpKind::RopeAngles:
        return fmt::format("  bg_op_rope_angles({}, {}_rope_freq, {}, {});\n", act(op.outputs[0]), n_, g_.arch.head_dim / 2, pos);
      case OpKind::KvWrite:
        return fmt::format("  bg_op_kv_write({}, &attn, {}, {}, {});\n", kvl(op.layer), pos, act(op.inputs[0]), act(op.inputs[1]));
      case OpKind::AttnScores:
        return fmt::format("  bg_op_attn_scores({}, &attn, {}, {}, {}, {});\n", kvl(op.layer), pos, act(op.inputs[0]),
                           scratch(op.scratch[0], "int8_t"), act(op.outputs[0]));
      case OpKind::AttnSoftmax:
        return copy_first + fmt::format("  bg_op_attn_softmax(&attn, {}, {});\n", pos, act(op.outputs[0]));
      case OpKind::AttnWeightedSum:
        return fmt::format("  bg_op_attn_weighted_sum({}, &attn, {}, {}, {}, {});\n", kvl(op.layer), pos,
                           act(op.inputs[0]), scratch(op.scratch[0], "int64_t"), act(op.outputs[0]));
      case OpKind::Attention:
        return fmt::format("  bg_fused_attention({}, &attn, {}, {}, {}, {}, {}, {});\n", kvl(op.layer), pos, act(op.inputs[0]),
                           scratch(op.scratch[0], "int8_t"), scratch(op.scratch[1], "int64_t"), scratch(op.scratch[2], "int32_t"), act(op.outputs[0]));
      case OpKind::Sample:
        return fmt::format("  return bg_op_sample({}, {}, temperature_q16, &st.rng, &st.checksum);\n", act(op.inputs[0]), n_in);
      case OpKind::ClassifySample:
        return fmt::format("  return bg_fused_classify_sample({}, {}, {}, temperature_q16, &st.rng, &st.checksum);\n", mat(op.matrix),
                           codes(op.inputs[0]), amax(op.inputs[0]));
    }
    return "";
  }

  // The lookup kernel's scratch: its tables, and where the input spans chunks a home for
  // the partial sums (lut_partials: the output itself, or scratch of its own).
  std::string lut_scratch(const Step& step) const {
    const Op& op = g_.ops[step.op];
    const LutPartials home = step.lut_partials;
    const std::string sums = home == LutPartials::None      ? "0"
                             : home == LutPartials::Scratch ? scratch(op.lut_partials, "int32_t")
                                                            : act(op.outputs[0]);
    return fmt::format("  const bg_lut_scratch lut = {{{}, {}, {}, {}}};\n", scratch(op.lut_tables, "uint16_t"), sums, op.lut_chunk,
                       home == LutPartials::PairedInOutput ? "BG_LUT_PAIRED" : "BG_LUT_SEPARATE");
  }

  static const char* activation_name(int a) {
    return a == BG_ACT_SILU ? "BG_ACT_SILU" : (a == BG_ACT_RELU2 ? "BG_ACT_RELU2" : "BG_ACT_GELU");
  }

  std::string op_comment(const Op& op, int step) const {
    std::string s = fmt::format("/* step {}: {} ({})", step, op.label, op_name(op.kind));
    for (ValueId v : op.inputs) s += fmt::format("\n *   in   {}", vname(v));
    for (ValueId v : op.outputs) s += fmt::format("\n *   out  {}", vname(v));
    for (ValueId v : op.scratch) s += fmt::format("\n *   tmp  {}", vname(v));
    return s + " */\n";
  }

  std::string forward() const {
    const Liveness& lv = c_.liveness;
    const bg_attn_shape a = g_.attn_shape();
    std::string s = banner(n_ + ".cpp: the forward pass and the C API");
    if (c_.row_kernel == Kernel::Helium) s += "\n/* The target has Helium: dot products use MVE (bitgpt_mve.h). */\n#define BITGPT_KERNEL_MVE 1\n";
    if (c_.row_kernel == Kernel::Smlad) s += "\n/* The target has the DSP extension: dot products use SMLAD (bitgpt_smlad.h). */\n#define BITGPT_KERNEL_SMLAD 1\n";
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
    std::string s = origin_.version.empty() ? "bitgptc" : fmt::format("bitgptc {}; model files FNV-1a 64 {}", origin_.version, origin_.model_hash);
    std::string escaped;
    for (char ch : s) escaped += (ch == '"' || ch == '\\') ? std::string("\\") + ch : std::string(1, ch);
    return escaped;
  }

  // <name>_feed_text: BPE encodes into the planned buffer, then feeds; the table
  // tokenizer encodes and feeds one token at a time.
  std::string feed_text() const {
    if (bpe())
      return fmt::format(R"(
int32_t {0}_feed_text(const char *text, int32_t n, int32_t *bad_offset) {{
  int32_t count, i;
  if (n > {0}_MAX_PROMPT_BYTES) return BG_TEXT_TOO_LONG;
  count = bg_encode(&{0}_vocab, text, n, prompt_tokens, {0}_MAX_PROMPT_BYTES + 1, bad_offset);
  for (i = 0; i < count; ++i)
    if ({0}_feed(prompt_tokens[i]) == -2) return BG_TEXT_CONTEXT_FULL;
  return count;
}}
)", n_);
    return fmt::format(R"(
int32_t {0}_feed_text(const char *text, int32_t n, int32_t *bad_offset) {{
  int32_t at = 0, count = 0;
  while (at < n) {{
    int32_t len;
    const int32_t token = bg_encode_one(&{0}_vocab, text + at, n - at, &len);
    if (token < 0) {{
      *bad_offset = at;
      return BG_TEXT_UNCOVERED;
    }}
    if ({0}_feed(token) == -2) return BG_TEXT_CONTEXT_FULL;
    at += len;
    ++count;
  }}
  return count;
}}
)", n_);
  }

};

}  // namespace

std::string emit_forward_source(const CompiledModel& c, const Provenance& origin) {
  return ForwardSource(c, origin).forward();
}

}  // namespace bitgpt
