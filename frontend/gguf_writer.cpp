// gguf_bytes (gguf.h): a model as GGUF version 3, architecture llama (or bitnet, with
// sub-norms), every tensor F32, the SentencePiece-style tokenizer.
#include <fmt/format.h>

#include <cstring>

#include "frontend/gguf.h"
#include "frontend/llama_family.h"
#include "frontend/rotary_layout.h"
#include "support/diagnostics.h"

namespace bitgpt {

namespace {

constexpr uint64_t kAlignment = 32;

class GgufWriter {
 public:
  void u32(uint32_t v) { raw(&v, 4); }
  void u64(uint64_t v) { raw(&v, 8); }
  void f32(float v) { raw(&v, 4); }
  void str(const std::string& s) {
    u64(s.size());
    raw(s.data(), s.size());
  }
  void raw(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    out.insert(out.end(), b, b + n);
  }
  void pad() {
    while (out.size() % kAlignment) out.push_back(0);
  }
  // metadata entries (GGUF value types: 4 u32, 5 i32, 6 f32, 8 string, 9 array)
  void kv_u32(const std::string& k, uint32_t v) { str(k), u32(4), u32(v), ++kvs; }
  void kv_f32(const std::string& k, float v) { str(k), u32(6), f32(v), ++kvs; }
  void kv_str(const std::string& k, const std::string& v) { str(k), u32(8), str(v), ++kvs; }
  template <typename T, typename F>
  void kv_array(const std::string& k, uint32_t type, const std::vector<T>& v, F each) {
    str(k), u32(9), u32(type), u64(v.size());
    for (const T& x : v) each(x);
    ++kvs;
  }
  std::vector<uint8_t> out;
  uint64_t kvs = 0;
};

// A tensor to write: its GGUF name, dims (columns first) and F32 values.
struct Out {
  std::string name;
  std::vector<uint64_t> dims;
  std::vector<float> values;
};

Out real_values(const Model& m, const std::string& ours, const std::string& gguf) {
  const Tensor& t = m.tensor(ours);
  Out o{gguf, {}, {}};
  o.dims = t.shape.size() == 2 ? std::vector<uint64_t>{static_cast<uint64_t>(t.cols()), static_cast<uint64_t>(t.rows())}
                               : std::vector<uint64_t>{static_cast<uint64_t>(t.cols())};
  o.values.reserve(static_cast<size_t>(t.elements()));
  for (int64_t r = 0; r < t.rows(); ++r)
    for (int64_t c = 0; c < t.cols(); ++c) o.values.push_back(static_cast<float>(t.at(r, c)));
  return o;
}

}  // namespace

std::vector<uint8_t> gguf_bytes(const Model& m) {
  const Architecture& a = m.arch;
  const std::string why = why_not_llama_family(a);
  if (!why.empty()) fail(m.source, "", "GGUF's llama/bitnet architectures cannot express this model: " + why);
  const bool bitnet = a.sub_norm;
  const std::string arch = bitnet ? "bitnet" : "llama", k = arch + ".";
  std::vector<Out> tensors;
  tensors.push_back(real_values(m, "tok_embeddings", "token_embd.weight"));
  tensors.push_back(real_values(m, "final_norm.weight", "output_norm.weight"));
  if (!a.tied_classifier) tensors.push_back(real_values(m, "classifier", "output.weight"));
  for (int64_t l = 0; l < a.n_layers; ++l) {
    auto L = [&](const char* s) { return fmt::format("layers.{}.{}", l, s); };
    auto B = [&](const char* s) { return fmt::format("blk.{}.{}", l, s); };
    const char* const names[][2] = {{"attn_norm.weight", "attn_norm.weight"}, {"attn.wq", "attn_q.weight"}, {"attn.wk", "attn_k.weight"},
                                    {"attn.wv", "attn_v.weight"},             {"attn.wo", "attn_output.weight"}, {"ffn_norm.weight", "ffn_norm.weight"},
                                    {"ffn.w1", "ffn_gate.weight"},            {"ffn.w2", "ffn_down.weight"}, {"ffn.w3", "ffn_up.weight"}};
    for (const auto& n : names) {
      tensors.push_back(real_values(m, L(n[0]), B(n[1])));
      if (bitnet && (std::string(n[0]) == "attn.wq" || std::string(n[0]) == "attn.wk")) pairs_to_rotate_half(tensors.back().values, static_cast<int64_t>(tensors.back().dims[0]), a.head_dim);
    }
    if (bitnet) {
      tensors.push_back(real_values(m, L("attn.sub_norm.weight"), B("attn_sub_norm.weight")));
      tensors.push_back(real_values(m, L("ffn.sub_norm.weight"), B("ffn_sub_norm.weight")));
    }
  }

  GgufWriter meta;
  meta.kv_str("general.architecture", arch);
  meta.kv_str("general.name", m.name);
  meta.kv_u32("general.alignment", kAlignment);
  meta.kv_u32("general.file_type", 0);  // all F32
  const std::pair<const char*, int64_t> shape[] = {
      {"context_length", a.max_seq_len},       {"embedding_length", a.d_model},       {"block_count", a.n_layers},
      {"feed_forward_length", a.d_ff},         {"attention.head_count", a.n_heads},  {"attention.head_count_kv", a.n_kv_heads},
      {"attention.key_length", a.head_dim},    {"attention.value_length", a.head_dim}, {"rope.dimension_count", a.head_dim},
      {"vocab_size", a.vocab_size}};
  for (const auto& [key, value] : shape) meta.kv_u32(k + key, static_cast<uint32_t>(value));
  meta.kv_f32(k + "rope.freq_base", static_cast<float>(a.rope_theta));
  meta.kv_f32(k + "attention.layer_norm_rms_epsilon", static_cast<float>(a.norm_eps));
  // SentencePiece pieces: a space is U+2581, a byte-fallback token <0xNN>; the three
  // special tokens llama2.c's tokenizers start with keep their names. A table tokenizer
  // (greedy longest match) is written the same way, its single bytes as byte tokens, and
  // marked bitgptc.tokenizer = "table" for this compiler's reader: llama.cpp runs its ids
  // (it would split text by its own rule, not the table's).
  const Tokenizer& tok = m.tokenizer;
  const bool table = tok.kind == TokenizerKind::Table;
  const SentencePieceVocab vocab = sentencepiece_vocab(tok);
  const std::vector<std::string>& pieces = vocab.pieces;
  const std::vector<int32_t>& types = vocab.types;
  meta.kv_str("tokenizer.ggml.model", "llama");
  if (table) meta.kv_str("bitgptc.tokenizer", "table");
  const std::vector<float> scores = table ? std::vector<float>(tok.pieces.size(), 0.0f) : tok.scores;
  meta.kv_array("tokenizer.ggml.tokens", 8, pieces, [&](const std::string& s) { meta.str(s); });
  meta.kv_array("tokenizer.ggml.scores", 6, scores, [&](float s) { meta.f32(s); });
  meta.kv_array("tokenizer.ggml.token_type", 5, types, [&](int32_t t) { meta.u32(static_cast<uint32_t>(t)); });
  meta.kv_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(tok.bos));
  meta.kv_u32("tokenizer.ggml.eos_token_id", tok.pieces.size() > 2 && !table ? 2 : static_cast<uint32_t>(tok.bos));
  meta.kv_u32("tokenizer.ggml.unknown_token_id", 0);

  GgufWriter w;
  w.u32(0x46554747);
  w.u32(3);
  w.u64(tensors.size());
  w.u64(meta.kvs);
  w.raw(meta.out.data(), meta.out.size());
  uint64_t offset = 0;
  for (const Out& t : tensors) {
    w.str(t.name);
    w.u32(static_cast<uint32_t>(t.dims.size()));
    for (uint64_t d : t.dims) w.u64(d);
    w.u32(0);  // F32
    w.u64(offset);
    offset += (t.values.size() * 4 + kAlignment - 1) / kAlignment * kAlignment;
  }
  w.pad();
  for (const Out& t : tensors) {
    w.raw(t.values.data(), t.values.size() * 4);
    w.pad();
  }
  return w.out;
}

}  // namespace bitgpt
