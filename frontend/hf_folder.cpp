#include "frontend/hf_folder.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <optional>

#include "frontend/json_fields.h"
#include "frontend/llama_family.h"
#include "frontend/quantize.h"
#include "frontend/rotary_layout.h"
#include "frontend/safetensors.h"
#include "support/diagnostics.h"
#include "support/input_files.h"
#include "support/text.h"

namespace bitgpt {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int64_t kMaxJsonBytes = int64_t{256} << 20;

json read_json(const std::string& path, const std::string& what) { return parse_json_text(path, read_input_file(path, what, kMaxJsonBytes)); }

// How BitNet matrices are stored (config.json quantization_config).
struct BitnetStorage {
  bool bitnet = false;      // BitNet architecture: every layer matrix is ternary
  bool divide_by_scale = true;  // linear_class "bitlinear": weight = code / weight_scale
};

// The tensors of model.safetensors or of the shards an index names.
class Weights {
 public:
  Weights(const fs::path& dir, std::vector<std::string>& inputs) {
    const fs::path single = dir / "model.safetensors", index = dir / "model.safetensors.index.json";
    std::error_code ec;
    if (fs::exists(single, ec)) {
      const SafetensorsFile& f = open(single.string(), inputs);
      for (const auto& [name, t] : f.tensors()) where_[name] = &f;
      describe_ = single.string();
      return;
    }
    if (!fs::exists(index, ec))
      fail(dir.string(), "", "no model.safetensors or model.safetensors.index.json (PyTorch .bin weights are not read: save the model as safetensors)");
    describe_ = index.string();
    inputs.push_back(describe_);
    const json doc = read_json(describe_, "safetensors index");
    Fields top(describe_, doc, "");
    const json& map = top.raw("weight_map");
    if (!map.is_object()) fail(describe_, "weight_map", "expected an object {tensor name: file name}");
    std::map<std::string, const SafetensorsFile*> by_file;
    for (const auto& [name, file] : map.items()) {
      const std::string field = "weight_map." + name;
      if (!file.is_string()) fail(describe_, field, "expected a file name");
      const std::string shard = file.get<std::string>();
      if (shard.empty() || shard == "." || shard == ".." || shard.find('/') != std::string::npos || shard.find('\0') != std::string::npos)
        fail(describe_, field, "\"" + shard + "\" is not a file name in the folder");
      if (!by_file.count(shard)) by_file[shard] = &open((dir / shard).string(), inputs);
      const SafetensorsFile* f = by_file[shard];
      if (!f->find(name)) fail(describe_, field, "names " + shard + ", which holds no tensor " + name);
      where_[name] = f;
    }
  }

  const SafetensorsFile* file_of(const std::string& name) const {
    const auto it = where_.find(name);
    return it == where_.end() ? nullptr : it->second;
  }
  bool has(const std::string& name) const { return file_of(name) != nullptr; }
  const SafeTensor& get(const std::string& name) const {
    const SafetensorsFile* f = file_of(name);
    if (!f) fail(describe_, "tensor " + name, "missing");
    return *f->find(name);
  }
  std::vector<float> floats(const std::string& name) const { return file_of(name) ? file_of(name)->floats(get(name)) : std::vector<float>{}; }
  std::string file_name(const std::string& name) const { return file_of(name) ? file_of(name)->path() : describe_; }

 private:
  const SafetensorsFile& open(const std::string& path, std::vector<std::string>& inputs) {
    inputs.push_back(path);
    files_.push_back(std::make_unique<SafetensorsFile>(path));
    return *files_.back();
  }

  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const SafetensorsFile*> where_;
  std::string describe_;
};

std::string shape_text(const std::vector<int64_t>& s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

// Four ternary codes a byte, as Hugging Face packs BitNet weights: byte (r, c) of the
// [out/4, in] tensor holds rows r, r + out/4, r + 2 out/4, r + 3 out/4 of column c, two
// bits each (code + 1), lowest first.
std::vector<int8_t> unpack_bitnet_codes(const Weights& w, const SafeTensor& t, int64_t rows, int64_t cols) {
  const int64_t quarter = rows / 4;
  std::vector<int8_t> codes(static_cast<size_t>(rows * cols));
  for (int64_t k = 0; k < 4; ++k)
    for (int64_t r = 0; r < quarter; ++r)
      for (int64_t c = 0; c < cols; ++c) {
        const int field = (t.data[r * cols + c] >> (2 * k)) & 3;
        if (field == 3) fail(w.file_name(t.name), "tensor " + t.name, fmt::format("byte ({}, {}) holds the 2-bit field 3, which is not a ternary code (0, 1, 2 for -1, 0, +1)", r, c));
        codes[static_cast<size_t>((k * quarter + r) * cols + c)] = static_cast<int8_t>(field - 1);
      }
  return codes;
}

// Layer matrix or classifier `name` ([rows, cols] in PyTorch's [out, in] order).
Tensor matrix(const Weights& w, const std::string& name, const std::string& as, int64_t rows, int64_t cols, const BitnetStorage& storage) {
  const SafeTensor& t = w.get(name);
  Tensor out;
  out.name = as;
  out.shape = {rows, cols};
  if (t.dtype == "U8") {  // BitNet, packed
    const std::vector<int64_t> want = {rows / 4, cols};
    if (rows % 4 || t.shape != want)
      fail(w.file_name(name), "tensor " + name, fmt::format("U8 (packed ternary) of shape {}; expected {} for a [{}, {}] matrix packed four rows to a byte", shape_text(t.shape), shape_text(want), rows, cols));
    const std::string scale_name = name + "_scale";
    const std::vector<float> scale = w.floats(scale_name);
    if (!w.has(scale_name) || scale.size() != 1) fail(w.file_name(name), "tensor " + scale_name, "missing or not one value: a packed BitNet matrix needs its weight_scale");
    // the real weight is code / scale (bitlinear) or code * scale (autobitlinear, where 0 is
    // an all-zero matrix); either way the matrix's scale must come out finite and >= 0
    const float s = storage.divide_by_scale ? static_cast<float>(1.0 / static_cast<double>(scale[0])) : scale[0];
    if (!(s >= 0) || !std::isfinite(s) || (storage.divide_by_scale && !(scale[0] > 0)))
      fail(w.file_name(scale_name), "tensor " + scale_name,
           fmt::format("{} gives the matrix the scale {} ({}): a finite scale >= 0 is expected", scale[0], s,
                       storage.divide_by_scale ? "linear_class bitlinear: 1 / weight_scale" : "weight_scale itself"));
    out.dtype = WeightDType::Ternary;
    out.codes = unpack_bitnet_codes(w, t, rows, cols);
    out.scales = {s};
    return out;
  }
  if (t.shape != std::vector<int64_t>{rows, cols})
    fail(w.file_name(name), "tensor " + name, fmt::format("has shape {}, expected [{}, {}]", shape_text(t.shape), rows, cols));
  out.values = w.floats(name);
  // float weights of one magnitude are ternary already; BitNet's latent ones get absmean
  if (!ternary_from_one_magnitude(out) && storage.bitnet) ternarize_absmean(out);
  return out;
}

// A float tensor of exactly this shape (norm gains, the token embedding).
Tensor float_tensor(const Weights& w, const std::string& name, const std::string& as, const std::vector<int64_t>& shape) {
  const SafeTensor& t = w.get(name);
  if (t.shape != shape) fail(w.file_name(name), "tensor " + name, fmt::format("has shape {}, expected {}", shape_text(t.shape), shape_text(shape)));
  Tensor out;
  out.name = as;
  out.shape = shape;
  out.values = w.floats(name);
  return out;
}

// "ByteLevel" anywhere in a pre_tokenizer or decoder (GPT-2 style byte-level BPE), looked
// for down to a depth no real tokenizer nests to (a deeper one is refused, not recursed).
bool mentions_byte_level(const json& j, const std::string& path, const std::string& field, int depth = 0) {
  if (depth > 32) fail(path, field, "nested deeper than 32 levels");
  if (j.is_object()) {
    if (j.contains("type") && j["type"] == "ByteLevel") return true;
    for (const auto& [k, v] : j.items())
      if (mentions_byte_level(v, path, field, depth + 1)) return true;
  }
  if (j.is_array())
    for (const auto& v : j)
      if (mentions_byte_level(v, path, field, depth + 1)) return true;
  return false;
}

Tokenizer read_tokenizer(const std::string& path, const Fields& config, const std::string& config_path, int64_t vocab_size) {
  const json doc = read_json(path, "tokenizer");
  Fields top(path, doc, "");
  Fields model(path, top.raw("model"), "model");
  const std::string type = model.string("type");
  if (type != "BPE") fail(path, "model.type", "\"" + type + "\" is not supported: only BPE (SentencePiece-style, with byte fallback)");
  const bool table = config.has("bitgptc_tokenizer") && config.string("bitgptc_tokenizer") == "table";
  const bool byte_fallback_on = model.boolean_or("byte_fallback", false);
  if (!table && !byte_fallback_on &&
      ((top.has("pre_tokenizer") && mentions_byte_level(top.raw("pre_tokenizer"), path, "pre_tokenizer")) ||
       (top.has("decoder") && mentions_byte_level(top.raw("decoder"), path, "decoder"))))
    fail(path, "pre_tokenizer", "ByteLevel (GPT-2 style byte-level BPE) is not supported: only SentencePiece-style BPE (\u2581 for a space, byte fallback)");
  // id -> piece, from the vocabulary and the added tokens
  std::vector<std::optional<std::string>> pieces(static_cast<size_t>(vocab_size));
  std::vector<bool> control(static_cast<size_t>(vocab_size), false);
  const json& vocab = model.raw("vocab");
  if (!vocab.is_object()) fail(path, "model.vocab", "expected an object {piece: id}");
  std::map<std::string, int64_t> id_of;
  for (const auto& [piece, id] : vocab.items()) {
    const std::string field = "model.vocab." + piece;
    if (!id.is_number_unsigned() || id.get<uint64_t>() >= static_cast<uint64_t>(vocab_size))
      fail(path, field, fmt::format("expected a token id in [0, {}) (the embedding's rows)", vocab_size));
    const size_t i = static_cast<size_t>(id.get<uint64_t>());
    if (pieces[i]) fail(path, field, fmt::format("id {} is also the id of \"{}\"", i, *pieces[i]));
    pieces[i] = piece;
    id_of[piece] = static_cast<int64_t>(i);
  }
  if (top.has("added_tokens")) {
    const json& added = top.raw("added_tokens");
    if (!added.is_array()) fail(path, "added_tokens", "expected an array");
    for (size_t k = 0; k < added.size(); ++k) {
      Fields a(path, added[k], fmt::format("added_tokens[{}]", k));
      const int64_t id = a.integer("id", 0, vocab_size - 1);
      const std::string content = a.string("content");
      if (pieces[static_cast<size_t>(id)] && *pieces[static_cast<size_t>(id)] != content)
        fail(path, fmt::format("added_tokens[{}].id", k), fmt::format("{} is already the id of \"{}\" in model.vocab", id, *pieces[static_cast<size_t>(id)]));
      pieces[static_cast<size_t>(id)] = content;
      control[static_cast<size_t>(id)] = a.boolean_or("special", false);
    }
  }
  Tokenizer t;
  t.kind = table ? TokenizerKind::Table : TokenizerKind::Bpe;
  if (!table && vocab_size > kMaxBpeVocab)
    fail(path, "model.vocab", fmt::format("{} tokens is over {}: BPE encoding tables hold 16-bit ids", vocab_size, kMaxBpeVocab));
  const std::optional<int64_t> bos = config.has("bos_token_id") && !config.raw("bos_token_id").is_null()
                                         ? std::optional<int64_t>(config.integer("bos_token_id", 0, vocab_size - 1))
                                         : std::nullopt;
  if (table && !bos) fail(config_path, "bos_token_id", "missing: a table tokenizer needs its start token");
  t.bos = bos ? *bos : id_of.count("<s>") ? id_of["<s>"] : 1 % vocab_size;
  // BPE scores: a token made by merge number i scores -i (earlier merges first); no merge
  // makes any other token (Hugging Face's BPE never forms one), so it scores kNeverMerges.
  std::vector<float> scores;
  if (!table) {
    const json empty = json::array();
    const json& merges = model.has("merges") ? model.raw("merges") : empty;
    if (!merges.is_array()) fail(path, "model.merges", "expected an array");
    scores.assign(static_cast<size_t>(vocab_size), kNeverMerges);
    for (size_t i = merges.size(); i-- > 0;) {
      const json& m = merges[i];
      std::string joined;
      if (m.is_string()) {
        const std::string s = m.get<std::string>();
        const size_t sp = s.find(' ');
        if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos) fail(path, fmt::format("model.merges[{}]", i), "expected \"left right\"");
        joined = s.substr(0, sp) + s.substr(sp + 1);
      } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        joined = m[0].get<std::string>() + m[1].get<std::string>();
      } else {
        fail(path, fmt::format("model.merges[{}]", i), "expected \"left right\" or [left, right]");
      }
      if (const auto it = id_of.find(joined); it != id_of.end()) scores[static_cast<size_t>(it->second)] = -static_cast<float>(i);
    }
  }
  for (int64_t i = 0; i < vocab_size; ++i) {
    const size_t k = static_cast<size_t>(i);
    std::string piece = pieces[k].value_or("");
    const std::optional<unsigned char> byte = byte_fallback(piece);
    const bool is_byte = byte.has_value() && (table || byte_fallback_on);
    if (is_byte) piece = std::string(1, static_cast<char>(*byte));
    else if (control[k] || !pieces[k]) piece.clear();  // special or unused ids print nothing
    else if (!table) piece = sentencepiece_text(piece);
    t.pieces.push_back(piece);
    if (table) continue;
    t.scores.push_back(scores[k]);
    t.byte_fallback.push_back(is_byte);
  }
  return t;
}

}  // namespace

bool looks_like_hf_folder(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return fs::exists(fs::path(path) / "config.json", ec);
  return fs::path(path).filename() == "config.json";
}

Model load_hf_folder(const std::string& path) {
  std::error_code ec;
  const fs::path dir = fs::is_directory(path, ec) ? fs::path(path) : fs::path(path).parent_path();
  const std::string config_path = (dir / "config.json").string();
  Model m;
  m.source = config_path;
  m.inputs = {config_path};
  const json config_doc = read_json(config_path, "model config");
  Fields c(config_path, config_doc, "");

  const json& archs = c.raw("architectures");
  if (!archs.is_array() || archs.empty() || !archs[0].is_string()) fail(config_path, "architectures", "expected an array of class names");
  const std::string arch_name = archs[0].get<std::string>();
  BitnetStorage storage;
  if (arch_name == "BitNetForCausalLM" || arch_name == "BitnetForCausalLM") storage.bitnet = true;
  else if (arch_name != "LlamaForCausalLM")
    fail(config_path, "architectures", "\"" + arch_name + "\" is not supported (LlamaForCausalLM, BitNetForCausalLM or BitnetForCausalLM)");
  if (c.has("quantization_config") && !c.raw("quantization_config").is_null()) {
    Fields q(config_path, c.raw("quantization_config"), "quantization_config");
    const std::string method = q.string("quant_method");
    if (method != "bitnet") fail(config_path, "quantization_config.quant_method", "\"" + method + "\" is not supported: only \"bitnet\"");
    storage.bitnet = true;
    if (q.has("linear_class")) {
      const std::string cls = q.string("linear_class");
      if (cls != "bitlinear" && cls != "autobitlinear") fail(config_path, "quantization_config.linear_class", "\"" + cls + "\" is not one of \"bitlinear\", \"autobitlinear\"");
      storage.divide_by_scale = cls == "bitlinear";
    }
    if (q.boolean_or("use_rms_norm", false)) fail(config_path, "quantization_config.use_rms_norm", "true is not supported (a norm inside every BitLinear)");
  }
  const std::string act = c.has("hidden_act") ? c.string("hidden_act") : "silu";
  if (act != "silu" && act != "swish")
    fail(config_path, "hidden_act", "\"" + act + "\" is not supported: only \"silu\" (SwiGLU: down(silu(gate x) * up x))");
  for (const char* key : {"attention_bias", "mlp_bias"})
    if (c.boolean_or(key, false)) fail(config_path, key, "true is not supported: this compiler's matrices have no bias");
  if (c.has("rope_scaling") && !c.raw("rope_scaling").is_null()) fail(config_path, "rope_scaling", "is set; only plain RoPE (null) is supported");

  Architecture& a = m.arch;
  a.d_model = c.integer("hidden_size", 1, 1 << 16);
  a.n_layers = c.integer("num_hidden_layers", 1, 1024);
  a.d_ff = c.integer("intermediate_size", 1, 1 << 18);
  a.n_heads = c.integer("num_attention_heads", 1, 1024);
  a.n_kv_heads = c.has("num_key_value_heads") && !c.raw("num_key_value_heads").is_null() ? c.integer("num_key_value_heads", 1, a.n_heads) : a.n_heads;
  if (a.n_heads % a.n_kv_heads) fail(config_path, "num_key_value_heads", fmt::format("{} does not divide num_attention_heads {}", a.n_kv_heads, a.n_heads));
  if (c.has("head_dim") && !c.raw("head_dim").is_null()) a.head_dim = c.integer("head_dim", 2, 1 << 12);
  else if (a.d_model % a.n_heads) fail(config_path, "head_dim", fmt::format("absent, and num_attention_heads {} does not divide hidden_size {}", a.n_heads, a.d_model));
  else a.head_dim = a.d_model / a.n_heads;
  if (a.head_dim % 2) fail(config_path, "head_dim", "RoPE needs an even head dimension");
  a.vocab_size = c.integer("vocab_size", 2, 1 << 24);
  a.max_seq_len = c.integer("max_position_embeddings", 1, 1 << 20);
  a.rope_theta = c.number_or("rope_theta", 1e-6, 1e12, 10000.0);
  a.norm_eps = c.number_or("rms_norm_eps", 0.0, 1.0, 1e-6);
  a.positions = Positions::Rope;
  a.norm = NormKind::RmsNorm;
  a.ffn = FfnKind::SwiGLU;

  const Weights w(dir, m.inputs);
  a.tied_classifier = !w.has("lm_head.weight");
  if (a.tied_classifier && !c.boolean_or("tie_word_embeddings", true))
    fail(config_path, "tie_word_embeddings", "is false, but the weights have no lm_head.weight");
  a.sub_norm = w.has("model.layers.0.self_attn.attn_sub_norm.weight");
  auto add = [&](Tensor t) { m.tensors.emplace(t.name, std::move(t)); };
  BitnetStorage plain;  // the classifier is not a BitNet layer (no absmean), but a packed one has the folder's scale convention
  plain.divide_by_scale = storage.divide_by_scale;
  add(float_tensor(w, "model.embed_tokens.weight", "tok_embeddings", {a.vocab_size, a.d_model}));
  add(float_tensor(w, "model.norm.weight", "final_norm.weight", {a.d_model}));
  if (!a.tied_classifier) add(matrix(w, "lm_head.weight", "classifier", a.vocab_size, a.d_model, plain));
  const struct { const char* hf; const char* ours; int64_t rows, cols; } mats[] = {
      {"self_attn.q_proj", "attn.wq", a.q_dim(), a.d_model},   {"self_attn.k_proj", "attn.wk", a.kv_dim(), a.d_model},
      {"self_attn.v_proj", "attn.wv", a.kv_dim(), a.d_model},  {"self_attn.o_proj", "attn.wo", a.d_model, a.q_dim()},
      {"mlp.gate_proj", "ffn.w1", a.d_ff, a.d_model},          {"mlp.down_proj", "ffn.w2", a.d_model, a.d_ff},
      {"mlp.up_proj", "ffn.w3", a.d_ff, a.d_model}};
  for (int64_t l = 0; l < a.n_layers; ++l) {
    const std::string hf = fmt::format("model.layers.{}.", l), ours = fmt::format("layers.{}.", l);
    for (const auto& mat : mats) {
      Tensor t = matrix(w, hf + mat.hf + ".weight", ours + mat.ours, mat.rows, mat.cols, storage);
      if (mat.ours == std::string("attn.wq") || mat.ours == std::string("attn.wk")) rotate_half_to_pairs(t, a.head_dim);
      add(std::move(t));
    }
    add(float_tensor(w, hf + "input_layernorm.weight", ours + "attn_norm.weight", {a.d_model}));
    add(float_tensor(w, hf + "post_attention_layernorm.weight", ours + "ffn_norm.weight", {a.d_model}));
    if (a.sub_norm) {
      add(float_tensor(w, hf + "self_attn.attn_sub_norm.weight", ours + "attn.sub_norm.weight", {a.q_dim()}));
      add(float_tensor(w, hf + "mlp.ffn_sub_norm.weight", ours + "ffn.sub_norm.weight", {a.d_ff}));
    }
  }
  const std::string tokenizer_path = (dir / "tokenizer.json").string();
  if (!fs::exists(tokenizer_path, ec)) fail(dir.string(), "tokenizer.json", "missing (the folder needs its tokenizer)");
  m.inputs.push_back(tokenizer_path);
  m.tokenizer = read_tokenizer(tokenizer_path, c, config_path, a.vocab_size);
  return m;
}

}  // namespace bitgpt
