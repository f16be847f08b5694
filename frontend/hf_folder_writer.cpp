// hf_folder_files (hf_folder.h): a model as a Hugging Face folder that load_hf_folder
// reads back to the same codes and scales.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <numeric>

#include "frontend/hf_folder.h"
#include "frontend/llama_family.h"
#include "frontend/rotary_layout.h"
#include "frontend/safetensors.h"
#include "support/diagnostics.h"
#include "support/text.h"

namespace bitgpt {

namespace {

using ordered_json = nlohmann::ordered_json;

SafeTensorData f32_tensor(const std::string& name, const std::vector<int64_t>& shape, const std::vector<float>& values) {
  SafeTensorData d{name, "F32", shape, std::string(values.size() * 4, '\0')};
  std::memcpy(d.bytes.data(), values.data(), values.size() * 4);
  return d;
}

std::vector<float> real_values(const Tensor& t) {
  std::vector<float> v;
  v.reserve(static_cast<size_t>(t.elements()));
  for (int64_t r = 0; r < t.rows(); ++r)
    for (int64_t c = 0; c < t.cols(); ++c) v.push_back(static_cast<float>(t.at(r, c)));
  return v;
}

// Ternary codes packed as Hugging Face's BitNet layout (hf_folder.cpp, unpack_bitnet_codes).
std::string pack_bitnet_codes(const std::vector<int8_t>& codes, int64_t rows, int64_t cols) {
  const int64_t quarter = rows / 4;
  std::string out(static_cast<size_t>(quarter * cols), '\0');
  for (int64_t k = 0; k < 4; ++k)
    for (int64_t r = 0; r < quarter; ++r)
      for (int64_t c = 0; c < cols; ++c)
        out[static_cast<size_t>(r * cols + c)] |= static_cast<char>((codes[static_cast<size_t>((k * quarter + r) * cols + c)] + 1) << (2 * k));
  return out;
}

// A layer matrix: packed ternary with its weight_scale, or F32 values.
void add_matrix(std::vector<SafeTensorData>& out, const Model& m, const Tensor& t, const std::string& name, bool bitnet, bool rotate) {
  const int64_t rows = t.rows(), cols = t.cols();
  auto error = [&](const std::string& why) { fail(m.source, "tensor " + t.name, "cannot be written as a Hugging Face folder: " + why); };
  if (t.dtype == WeightDType::Ternary) {
    if (t.scales.size() != 1) error("per-row scales have no place in BitNet's layout (one weight_scale a matrix): write GGUF or model.json");
    if (rows % 4) error(fmt::format("{} rows do not pack four to a byte", rows));
    std::vector<int8_t> codes = t.codes;
    if (rotate) pairs_to_rotate_half(codes, cols, m.arch.head_dim);
    out.push_back({name, "U8", {rows / 4, cols}, pack_bitnet_codes(codes, rows, cols)});
    out.push_back(f32_tensor(name + "_scale", {1}, {t.scales[0]}));
    return;
  }
  if (bitnet && !(t.dtype == WeightDType::Binary && t.scales.size() == 1))
    error(std::string(dtype_name(t.dtype)) + " beside ternary matrices: BitNet's float weights are latent ones, ternarised when read");
  std::vector<float> v = real_values(t);  // a binary matrix as values of one magnitude, read back as binary
  if (rotate) pairs_to_rotate_half(v, cols, m.arch.head_dim);
  out.push_back(f32_tensor(name, {rows, cols}, v));
}

// Merges in the order of the BPE scores: each token that two others join to make, split
// once, best score first (the reader scores merge i as -i, so the order is kept).
ordered_json merges_by_score(const Tokenizer& tok, const std::vector<std::string>& pieces) {
  std::map<std::string, size_t> id_of;
  for (size_t i = 0; i < pieces.size(); ++i) id_of.emplace(pieces[i], i);
  std::vector<size_t> order(pieces.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return tok.scores[a] > tok.scores[b]; });
  ordered_json merges = ordered_json::array();
  for (size_t i : order) {
    if (tok.byte_fallback[i] || tok.pieces[i].empty() || !(tok.scores[i] > kNeverMerges)) continue;
    const std::string& s = pieces[i];
    for (size_t k = 1; k < s.size(); ++k)
      if (id_of.count(s.substr(0, k)) && id_of.count(s.substr(k))) {
        merges.push_back(s.substr(0, k) + " " + s.substr(k));
        break;
      }
  }
  return merges;
}

std::string tokenizer_json(const Model& m) {
  const Tokenizer& tok = m.tokenizer;
  const bool table = tok.kind == TokenizerKind::Table;
  std::vector<std::string> pieces;
  std::vector<int32_t> types;
  if (table) {
    for (const std::string& p : tok.pieces) pieces.push_back(p.empty() ? fmt::format("<ctrl{}>", pieces.size()) : table_token_text(p));
    types.assign(pieces.size(), 1);
    for (size_t i = 0; i < pieces.size(); ++i) types[i] = tok.pieces[i].empty() ? 3 : 1;
  } else {
    SentencePieceVocab v = sentencepiece_vocab(tok);
    pieces = std::move(v.pieces);
    types = std::move(v.types);
  }
  ordered_json vocab = ordered_json::object(), added = ordered_json::array();
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (vocab.contains(pieces[i])) fail(m.source, fmt::format("token {}", i), fmt::format("\"{}\" is also token {}: tokenizer.json's vocab maps each piece to one id", pieces[i], vocab[pieces[i]].get<size_t>()));
    vocab[pieces[i]] = i;
    if (types[i] == 2 || types[i] == 3) added.push_back({{"id", i}, {"content", pieces[i]}, {"special", true}});
  }
  ordered_json model = {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"byte_fallback", true}, {"vocab", vocab},
                        {"merges", table ? ordered_json::array() : merges_by_score(tok, pieces)}};
  ordered_json doc = {{"version", "1.0"}, {"added_tokens", added}, {"normalizer", nullptr}, {"pre_tokenizer", nullptr}, {"model", model}};
  if (!table)  // SentencePiece's: a space before the text, spaces as U+2581
    doc["normalizer"] = {{"type", "Sequence"},
                         {"normalizers", {{{"type", "Prepend"}, {"prepend", "\xe2\x96\x81"}}, {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\xe2\x96\x81"}}}}};
  return doc.dump() + "\n";
}

}  // namespace

std::map<std::string, std::string> hf_folder_files(const Model& m) {
  const Architecture& a = m.arch;
  if (const std::string why = why_not_llama_family(a); !why.empty())
    fail(m.source, "", "a Hugging Face Llama or BitNet folder cannot express this model: " + why);
  bool bitnet = a.sub_norm;
  for (const auto& [name, t] : m.tensors) bitnet = bitnet || (name.rfind("layers.", 0) == 0 && t.dtype == WeightDType::Ternary);

  std::vector<SafeTensorData> tensors;
  auto floats = [&](const std::string& ours, const std::string& hf) {
    const Tensor& t = m.tensor(ours);
    tensors.push_back(f32_tensor(hf, t.shape, real_values(t)));
  };
  floats("tok_embeddings", "model.embed_tokens.weight");
  const char* const mats[][2] = {{"attn.wq", "self_attn.q_proj"}, {"attn.wk", "self_attn.k_proj"}, {"attn.wv", "self_attn.v_proj"}, {"attn.wo", "self_attn.o_proj"},
                                 {"ffn.w1", "mlp.gate_proj"},     {"ffn.w3", "mlp.up_proj"},     {"ffn.w2", "mlp.down_proj"}};
  for (int64_t l = 0; l < a.n_layers; ++l) {
    const std::string ours = fmt::format("layers.{}.", l), hf = fmt::format("model.layers.{}.", l);
    floats(ours + "attn_norm.weight", hf + "input_layernorm.weight");
    for (const auto& mat : mats) {
      const bool rotate = mat[0] == std::string("attn.wq") || mat[0] == std::string("attn.wk");
      add_matrix(tensors, m, m.tensor(ours + mat[0]), hf + mat[1] + ".weight", bitnet, rotate);
    }
    floats(ours + "ffn_norm.weight", hf + "post_attention_layernorm.weight");
    if (a.sub_norm) {
      floats(ours + "attn.sub_norm.weight", hf + "self_attn.attn_sub_norm.weight");
      floats(ours + "ffn.sub_norm.weight", hf + "mlp.ffn_sub_norm.weight");
    }
  }
  floats("final_norm.weight", "model.norm.weight");
  if (!a.tied_classifier) floats("classifier", "lm_head.weight");

  ordered_json config = {{"architectures", {bitnet ? "BitNetForCausalLM" : "LlamaForCausalLM"}},
                         {"model_type", bitnet ? "bitnet" : "llama"},
                         {"hidden_size", a.d_model},
                         {"intermediate_size", a.d_ff},
                         {"num_hidden_layers", a.n_layers},
                         {"num_attention_heads", a.n_heads},
                         {"num_key_value_heads", a.n_kv_heads},
                         {"head_dim", a.head_dim},
                         {"vocab_size", a.vocab_size},
                         {"max_position_embeddings", a.max_seq_len},
                         {"rope_theta", a.rope_theta},
                         {"rms_norm_eps", a.norm_eps},
                         {"hidden_act", "silu"},
                         {"tie_word_embeddings", a.tied_classifier},
                         {"attention_bias", false},
                         {"mlp_bias", false},
                         {"rope_scaling", nullptr},
                         {"bos_token_id", m.tokenizer.bos},
                         {"torch_dtype", "float32"}};
  if (bitnet) config["quantization_config"] = {{"quant_method", "bitnet"}, {"linear_class", "autobitlinear"}, {"quantization_mode", "offline"}};
  if (m.tokenizer.kind == TokenizerKind::Table) config["bitgptc_tokenizer"] = "table";
  return {{"config.json", config.dump(2) + "\n"}, {"model.safetensors", safetensors_bytes(tensors)}, {"tokenizer.json", tokenizer_json(m)}};
}

std::string hf_folder_caveats(const Model& m) {
  const Tokenizer& tok = m.tokenizer;
  if (tok.kind != TokenizerKind::Bpe) return "";
  std::map<float, int> tokens_of_score;
  for (size_t i = 0; i < tok.pieces.size(); ++i)
    if (!tok.byte_fallback[i] && tok.pieces[i].size() > 1 && tok.scores[i] > kNeverMerges) ++tokens_of_score[tok.scores[i]];
  int tied = 0;
  for (const auto& [score, n] : tokens_of_score) tied += n > 1 ? n : 0;
  if (!tied) return "";
  return fmt::format("{} BPE tokens share their score with another; tokenizer.json's merges are a strict order, so they rank by id there, "
                     "and a text where two of them compete for the same characters may split otherwise than with this model's scores",
                     tied);
}

}  // namespace bitgpt
