// How one step of the lowered program is written as C++: named pointers into the arena
// at the top of the step, then the call of its runtime function with the step's operands,
// weights and flags; and, when every layer has the same plan, the layer table and the
// layer steps that read their weights from it (passes/program.h, LayerLoop). The forward
// source (forward_source.cpp) assembles these into NAME.cpp.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "codegen/emit_context.h"

namespace bitgpt {

class StepSource : public EmitContext {
 public:
  using EmitContext::EmitContext;
  using Op = ir::Op;
  using OpKind = ir::OpKind;
  using Kernel = ir::Kernel;
  using ValueId = ir::ValueId;


  // ---- the layer loop (passes/program.h, LayerLoop) ----
  // A layer table field: a name for matrix or norm `index` of layer 0, the same for the
  // matching entry of every layer.
  struct Field {
    bool norm;
    int slot;    // the layer step (0 .. steps_per_layer)
    int which;   // 0: op.matrix, 1: op.matrix2, 2: op.norm, 3: op.matrix3
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
  static int entry(const Op& op, int which) { return which == 0 ? op.matrix : which == 1 ? op.matrix2 : which == 2 ? op.norm : op.matrix3; }
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
      for (int which = 0; which < 4; ++which) {
        if (entry(layer_op(0, j), which) < 0) continue;
        Field f{which == 2, j, which, strip_layer(entry_name(layer_op(0, j), which), 0)};
        for (int l = 1; l < loop.layers; ++l) named = named && strip_layer(entry_name(layer_op(l, j), which), l) == f.name;
        for (const Field& other : fields) named = named && other.name != f.name;
        named = named && !f.name.empty() && f.name != "kv";
        fields.push_back(f);
      }
    if (!named)
      for (Field& f : fields) f.name = fmt::format("{}{}{}", f.norm ? "norm" : "w", f.slot, f.which == 1 ? "b" : f.which == 3 ? "c" : "");
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
      case OpKind::SharedMatMul: {
        const std::string w3 = op.matrix3 >= 0 ? mat(op.matrix3) : "0", out3 = op.outputs.size() > 2 ? act(op.outputs[2]) : "0";
        if (lookup)
          return lut_scratch(step) + fmt::format("  bg_lut_op_matvecs({}, {}, {}, {}, {}, {}, {}, {}, &lut);\n", mat(op.matrix), mat(op.matrix2), w3,
                                                 codes(op.inputs[0]), amax(op.inputs[0]), act(op.outputs[0]), act(op.outputs[1]), out3);
        return fmt::format("  bg_op_matvecs({}, {}, {}, {}, {}, {}, {}, {});\n", mat(op.matrix), mat(op.matrix2), w3, codes(op.inputs[0]),
                           amax(op.inputs[0]), act(op.outputs[0]), act(op.outputs[1]), out3);
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
        return fmt::format("  return bg_fused_classify_sample({}, {}, {}, {}, temperature_q16, &st.rng, &st.checksum);\n", mat(op.matrix),
                           codes(op.inputs[0]), op.input_pairs == ir::kNoValue ? "0" : scratch(op.input_pairs, "uint32_t"), amax(op.inputs[0]));
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

};

}  // namespace bitgpt
