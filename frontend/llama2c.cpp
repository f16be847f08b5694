#include "frontend/llama2c.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "support/byte_reader.h"
#include "support/diagnostics.h"
#include "support/input_files.h"
#include "support/text.h"

namespace bitgpt {

namespace fs = std::filesystem;

namespace {

constexpr uint32_t kMagicAk42 = 0x616b3432;
constexpr int64_t kMaxBytes = int64_t{2} << 30;

std::vector<uint8_t> read_all(const std::string& path, const std::string& what) { return read_input_file(path, what, kMaxBytes); }

using Reader = ByteReader;

struct Config {
  int64_t dim, hidden, layers, heads, kv_heads, vocab, seq_len;
  bool shared;
};

enum class Variant { LegacyFloat, Version1Float, Version2Q80, BitTernary };

const char* variant_name(Variant v) {
  switch (v) {
    case Variant::LegacyFloat: return "legacy llama2.c float32";
    case Variant::Version1Float: return "llama2.c version 1 float32";
    case Variant::Version2Q80: return "llama2.c version 2 Q8_0";
    case Variant::BitTernary: return "bitllama2.c ternary";
  }
  return "?";
}

int64_t legacy_size(const Config& c) {
  const int64_t hs = c.dim / c.heads, kv = c.kv_heads * hs;
  int64_t n = 7 * 4;
  n += 4 * (c.vocab * c.dim + c.layers * c.dim * 2 + c.layers * (c.dim * c.dim * 2 + c.dim * kv * 2) +
            c.layers * c.dim * c.hidden * 3 + c.dim + c.seq_len * hs);
  if (!c.shared) n += 4 * c.vocab * c.dim;
  return n;
}

int64_t matrix_elements(const Config& c) {
  const int64_t kv = c.kv_heads * (c.dim / c.heads);
  return c.layers * (c.dim * c.dim * 2 + c.dim * kv * 2 + c.dim * c.hidden * 3);
}

int64_t version1_size(const Config& c) {
  return 256 + 4 * (c.layers * c.dim * 2 + c.dim + c.vocab * c.dim + matrix_elements(c) + (c.shared ? 0 : c.vocab * c.dim));
}

int64_t version2_size(const Config& c, int64_t group) {
  const int64_t quantised = c.vocab * c.dim + matrix_elements(c) + (c.shared ? 0 : c.vocab * c.dim);
  return 256 + 4 * (c.layers * c.dim * 2 + c.dim) + quantised + 4 * (quantised / group);
}

int64_t bit_size(const Config& c) {
  const int64_t hs = c.dim / c.heads, kv = c.kv_heads * hs;
  int64_t per_layer = (4 + c.dim * c.dim / 4) * 2 + (4 + c.dim * kv / 4) * 2 + (4 + c.dim * c.hidden / 4) * 3;
  return 256 + 4 * c.dim + 4 * c.vocab * c.dim + c.layers * per_layer;
}

void check_config(const std::string& path, const Config& c) {
  const auto field = [&](const char* name, int64_t v, int64_t hi) {
    if (v < 1 || v > hi) fail(path, std::string("header.") + name, fmt::format("{} is out of range [1, {}]", v, hi));
  };
  field("dim", c.dim, 1 << 16);
  field("hidden_dim", c.hidden, 1 << 18);
  field("n_layers", c.layers, 1024);
  field("n_heads", c.heads, 4096);
  field("n_kv_heads", c.kv_heads, 4096);
  field("vocab_size", c.vocab, 1 << 20);
  field("seq_len", c.seq_len, 1 << 20);
  if (c.dim % c.heads != 0) fail(path, "header.n_heads", fmt::format("{} does not divide dim = {}", c.heads, c.dim));
  if (c.heads % c.kv_heads != 0) fail(path, "header.n_kv_heads", fmt::format("{} does not divide n_heads = {}", c.kv_heads, c.heads));
  if ((c.dim / c.heads) % 2 != 0) fail(path, "header.n_heads", "head size is odd; rotary positions need it even");
}

Tensor matrix_f32(const std::string& name, int64_t rows, int64_t cols, std::vector<float> v) {
  Tensor t;
  t.name = name;
  t.shape = {rows, cols};
  t.dtype = WeightDType::F32;
  t.values = std::move(v);
  return t;
}

Tensor vector_f32(const std::string& name, std::vector<float> v) {
  Tensor t;
  t.name = name;
  t.shape = {static_cast<int64_t>(v.size())};
  t.dtype = WeightDType::F32;
  t.values = std::move(v);
  return t;
}

// bitllama2.c: per matrix a float scale then rows*cols/4 bytes, weight j at shift 6-2(j&3).
Tensor ternary(const std::string& path, Reader& r, const std::string& name, int64_t rows, int64_t cols) {
  Tensor t;
  t.name = name;
  t.shape = {rows, cols};
  t.dtype = WeightDType::Ternary;
  const size_t at = r.offset();
  const float s = r.f32(name + " scale");
  if (s < 0) fail(path, fmt::format("byte offset {}", at), name + " scale is negative");
  t.scales = {s};
  const uint8_t* p = r.bytes(static_cast<size_t>(rows * cols / 4), name);
  t.codes.resize(static_cast<size_t>(rows * cols));
  for (int64_t i = 0; i < rows * cols; ++i) {
    const int code = (p[i >> 2] >> (6 - 2 * (i & 3))) & 3;
    if (code == 2) fail(path, fmt::format("byte offset {}", at + 4 + static_cast<size_t>(i >> 2)), "invalid ternary code 10 in " + name);
    t.codes[static_cast<size_t>(i)] = static_cast<int8_t>(code == 0 ? 0 : (code == 1 ? 1 : -1));
  }
  return t;
}


}  // namespace

bool looks_like_llama2c(const std::string& path) {
  check_input_file(path, fs::path(path).extension() == ".json" ? "model manifest" : "model file", kMaxBytes);  // before opening: a pipe would block
  std::ifstream in(path, std::ios::binary);
  char c = 0;
  in.get(c);
  return in && c != '{' && fs::path(path).extension() != ".json";
}

Tokenizer load_llama2c_tokenizer(const std::string& path, int64_t vocab_size) {
  const std::vector<uint8_t> b = read_all(path, "tokenizer");
  Reader r(path, b);
  Tokenizer t;
  t.kind = TokenizerKind::Bpe;
  t.bos = 1;
  if (vocab_size > kMaxBpeVocab)
    fail(path, "", fmt::format("the model's vocab_size {} is over {}: BPE encoding tables hold 16-bit token ids", vocab_size, kMaxBpeVocab));
  const int32_t max_len = r.i32("max_token_length");
  if (max_len < 1 || max_len > 4096) fail(path, "byte offset 0", fmt::format("max_token_length {} is out of range [1, 4096]", max_len));
  for (int64_t i = 0; i < vocab_size; ++i) {
    t.scores.push_back(r.f32(fmt::format("the score of token {}", i)));
    const size_t at = r.offset();
    const int32_t len = r.i32(fmt::format("the length of token {}", i));
    if (len < 0 || len > max_len)
      fail(path, fmt::format("byte offset {}", at), fmt::format("token {} has length {}, outside [0, max_token_length = {}]", i, len, max_len));
    const uint8_t* p = r.bytes(static_cast<size_t>(len), fmt::format("the bytes of token {}", i));
    std::string piece(reinterpret_cast<const char*>(p), static_cast<size_t>(len));
    const std::optional<unsigned char> byte = byte_fallback(piece);
    const bool is_byte = byte.has_value();
    if (is_byte) piece = std::string(1, static_cast<char>(*byte));
    if (i < 3) piece.clear();  // <unk>, <s>, </s>: control tokens print nothing
    t.pieces.push_back(piece);
    t.byte_fallback.push_back(is_byte && i >= 3);
  }
  if (r.offset() != b.size())
    fail(path, fmt::format("byte offset {}", r.offset()), fmt::format("{} bytes remain after {} tokens: the tokenizer does not match the model's vocab_size", b.size() - r.offset(), vocab_size));
  return t;
}

Model load_llama2c(const std::string& path, const std::string& tokenizer) {
  if (tokenizer.empty()) fail(path, "", "a llama2.c checkpoint needs --tokenizer tokenizer.bin");
  const std::vector<uint8_t> b = read_all(path, "checkpoint");
  Reader r(path, b);
  if (b.size() < 28) fail(path, "byte offset 0", fmt::format("{} bytes is too short for any llama2.c header", b.size()));
  Config c{};
  Variant variant = Variant::LegacyFloat;
  int64_t group = 0;
  if (b.size() >= 4 && r.i32("magic") == static_cast<int32_t>(kMagicAk42)) {
    const int32_t version = r.i32("version");
    if (version != 1 && version != 2)
      fail(path, "byte offset 4", fmt::format("version {} is not supported (1: float32 or bitllama2.c ternary, 2: Q8_0)", version));
    c = {r.i32("dim"), r.i32("hidden_dim"), r.i32("n_layers"), r.i32("n_heads"), r.i32("n_kv_heads"), r.i32("vocab_size"), r.i32("seq_len"), true};
    c.shared = *r.bytes(1, "shared_classifier") != 0;
    if (version == 2) {
      group = r.i32("group_size");
      if (group < 1 || group > (1 << 20)) fail(path, "byte offset 37", fmt::format("group_size {} is out of range", group));
    }
    check_config(path, c);
    if (version == 2) variant = Variant::Version2Q80;
    else variant = static_cast<int64_t>(b.size()) == bit_size(c) ? Variant::BitTernary : Variant::Version1Float;
  } else {
    r.seek(0);
    c = {r.i32("dim"), r.i32("hidden_dim"), r.i32("n_layers"), r.i32("n_heads"), r.i32("n_kv_heads"), r.i32("vocab_size"), r.i32("seq_len"), true};
    c.shared = c.vocab > 0;
    c.vocab = std::abs(c.vocab);
    check_config(path, c);
  }
  // Every matrix of the file, by what the header says: (name, values). Q8_0 groups and
  // bitllama2.c's four codes per byte both run across a whole matrix, never across two.
  const int64_t kv_dim = c.kv_heads * (c.dim / c.heads);
  const std::pair<const char*, int64_t> matrices[] = {
      {"token embeddings", c.vocab * c.dim}, {"wq", c.dim * c.dim},      {"wk", kv_dim * c.dim},      {"wv", kv_dim * c.dim},
      {"wo", c.dim * c.dim},                 {"w1", c.hidden * c.dim},   {"w2", c.dim * c.hidden},    {"w3", c.hidden * c.dim}};
  for (const auto& [what, n] : matrices) {
    if (variant == Variant::Version2Q80 && n % group != 0)
      fail(path, "byte offset 37 (group_size)",
           fmt::format("group_size {} does not divide the {} values of {}; llama2.c's exporter writes a group size that divides every tensor",
                       group, n, what));
    if (variant == Variant::BitTernary && std::string(what) != "token embeddings" && n % 4 != 0)
      fail(path, "header", fmt::format("{} has {} weights, not a multiple of 4: bitllama2.c packs four 2-bit codes per byte across a whole matrix",
                                       what, n));
  }
  const int64_t expected = variant == Variant::BitTernary ? bit_size(c)
                           : variant == Variant::Version1Float ? version1_size(c)
                           : variant == Variant::Version2Q80 ? version2_size(c, group)
                                                             : legacy_size(c);
  if (expected != static_cast<int64_t>(b.size())) {
    std::string also;
    if (variant == Variant::Version1Float) also = fmt::format(" (or {} bytes for a bitllama2.c ternary one)", bit_size(c));
    fail(path, "header", fmt::format("dim {} hidden_dim {} n_layers {} n_heads {} n_kv_heads {} vocab_size {} seq_len {} imply {} bytes for a {} checkpoint{}; the file has {}",
                                     c.dim, c.hidden, c.layers, c.heads, c.kv_heads, c.vocab, c.seq_len, expected, variant_name(variant), also, b.size()));
  }

  Model m;
  m.source = path;
  m.inputs = {path, tokenizer};
  Architecture& a = m.arch;
  a.d_model = c.dim;
  a.n_layers = c.layers;
  a.n_heads = c.heads;
  a.n_kv_heads = c.kv_heads;
  a.head_dim = c.dim / c.heads;
  a.d_ff = c.hidden;
  a.vocab_size = c.vocab;
  a.max_seq_len = c.seq_len;
  a.positions = Positions::Rope;
  a.norm = NormKind::RmsNorm;
  a.norm_eps = 1e-5;
  a.ffn = FfnKind::SwiGLU;
  a.tied_classifier = c.shared;
  const int64_t kv = a.kv_dim();
  auto add = [&](Tensor t) { m.tensors.emplace(t.name, std::move(t)); };
  auto L = [](int64_t l, const char* s) { return fmt::format("layers.{}.{}", l, s); };

  if (variant == Variant::BitTernary) {
    a.sub_norm = true;
    r.seek(256);
    add(vector_f32("final_norm.weight", r.floats(c.dim, "final_norm")));
    add(matrix_f32("tok_embeddings", c.vocab, c.dim, r.floats(c.vocab * c.dim, "token embeddings")));
    // bit_rmsnorm is x / rms(x) / n with no gain and no eps. Activation quantisation
    // ignores the 1/n and a matmul's output is linear in it, so it moves into the scale
    // of the matrix the norm feeds, and the norms keep a unit gain. It is dropped for wv
    // and w3: their outputs reach a sub-norm only linearly (attention's weighted sum, the
    // gate product), and without eps a sub-norm is exactly scale-invariant. Keeping those
    // activations large keeps them far above the Q16 resolution (the gate product would
    // otherwise be ~4e-5, two or three Q16 units).
    a.norm_eps = 0.0;
    const struct { const char* name; int64_t rows, cols, fold; } mats[] = {
        {"attn.wq", c.dim, c.dim, c.dim}, {"attn.wk", kv, c.dim, c.dim}, {"attn.wv", kv, c.dim, 1},
        {"attn.wo", c.dim, c.dim, c.dim}, {"ffn.w1", c.hidden, c.dim, c.dim}, {"ffn.w2", c.dim, c.hidden, c.hidden},
        {"ffn.w3", c.hidden, c.dim, 1}};
    for (const auto& mat : mats)
      for (int64_t l = 0; l < c.layers; ++l) {
        Tensor t = ternary(path, r, L(l, mat.name), mat.rows, mat.cols);
        t.scales[0] /= static_cast<float>(mat.fold);
        add(std::move(t));
      }
    for (int64_t l = 0; l < c.layers; ++l) {
      add(vector_f32(L(l, "attn_norm.weight"), std::vector<float>(static_cast<size_t>(c.dim), 1.0f)));
      add(vector_f32(L(l, "attn.sub_norm.weight"), std::vector<float>(static_cast<size_t>(c.dim), 1.0f)));
      add(vector_f32(L(l, "ffn_norm.weight"), std::vector<float>(static_cast<size_t>(c.dim), 1.0f)));
      add(vector_f32(L(l, "ffn.sub_norm.weight"), std::vector<float>(static_cast<size_t>(c.hidden), 1.0f)));
    }
  } else {
    // The float and Q8_0 layouts hold the same tensors in different orders.
    const bool legacy = variant == Variant::LegacyFloat;
    if (!legacy) r.seek(256);
    auto slice = [](const std::vector<float>& v, int64_t i, int64_t n) {
      return std::vector<float>(v.begin() + i * n, v.begin() + (i + 1) * n);
    };
    // Q8_0: int8 values of one tensor, then one float scale per group of `group` values.
    auto q80 = [&](const std::string& what, int64_t n) {
      const uint8_t* q = r.bytes(static_cast<size_t>(n), what);
      const std::vector<float> scales = r.floats(n / group, what + " scales");
      std::vector<float> v(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = static_cast<float>(static_cast<int8_t>(q[i])) * scales[static_cast<size_t>(i / group)];
      return v;
    };
    auto tensor_data = [&](const std::string& what, int64_t n) { return variant == Variant::Version2Q80 ? q80(what, n) : r.floats(n, what); };
    std::vector<float> att_norm, ffn_norm, final_norm;
    if (!legacy) {
      att_norm = r.floats(c.layers * c.dim, "attention norms");
      ffn_norm = r.floats(c.layers * c.dim, "ffn norms");
      final_norm = r.floats(c.dim, "final norm");
    }
    add(matrix_f32("tok_embeddings", c.vocab, c.dim, tensor_data("token embeddings", c.vocab * c.dim)));
    if (legacy) att_norm = r.floats(c.layers * c.dim, "rms_att_weight");
    const struct { const char* name; int64_t rows, cols; } mats[] = {
        {"attn.wq", c.dim, c.dim}, {"attn.wk", kv, c.dim}, {"attn.wv", kv, c.dim}, {"attn.wo", c.dim, c.dim},
        {"ffn.w1", c.hidden, c.dim}, {"ffn.w2", c.dim, c.hidden}, {"ffn.w3", c.hidden, c.dim}};
    for (const auto& mat : mats) {
      if (legacy && std::string(mat.name) == "ffn.w1") ffn_norm = r.floats(c.layers * c.dim, "rms_ffn_weight");
      for (int64_t l = 0; l < c.layers; ++l)
        add(matrix_f32(L(l, mat.name), mat.rows, mat.cols, tensor_data(L(l, mat.name), mat.rows * mat.cols)));
    }
    for (int64_t l = 0; l < c.layers; ++l) {
      add(vector_f32(L(l, "attn_norm.weight"), slice(att_norm, l, c.dim)));
      add(vector_f32(L(l, "ffn_norm.weight"), slice(ffn_norm, l, c.dim)));
    }
    if (legacy) {
      final_norm = r.floats(c.dim, "rms_final_weight");
      r.bytes(static_cast<size_t>(4 * c.seq_len * (c.dim / c.heads)), "freq_cis (unused)");
    }
    add(vector_f32("final_norm.weight", final_norm));
    if (!c.shared) add(matrix_f32("classifier", c.vocab, c.dim, tensor_data("classifier", c.vocab * c.dim)));
  }
  m.tokenizer = load_llama2c_tokenizer(tokenizer, c.vocab);
  return m;
}

}  // namespace bitgpt
