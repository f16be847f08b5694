#include "frontend/model_json.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "support/diagnostics.h"
#include "support/input_files.h"
#include "support/text.h"
#include "frontend/json_fields.h"
#include "frontend/tensor_schema.h"

namespace bitgpt {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int64_t kMaxDim = int64_t{1} << 20;
constexpr int64_t kMaxTensorElements = int64_t{1} << 31;
constexpr int64_t kMaxManifestBytes = int64_t{64} << 20;
constexpr int64_t kMaxSidecarBytes = int64_t{2} << 30;

std::vector<uint8_t> read_file(const std::string& path, int64_t max_bytes, const std::string& what) { return read_input_file(path, what, max_bytes); }

Architecture parse_architecture(const std::string& file, const json& j) {
  Fields f(file, j, "architecture");
  Architecture a;
  a.d_model = f.integer("d_model", 1, kMaxDim);
  a.n_layers = f.integer("n_layers", 1, 1024);
  a.n_heads = f.integer("n_heads", 1, 4096);
  a.n_kv_heads = f.integer("n_kv_heads", 1, 4096);
  if (a.n_heads % a.n_kv_heads != 0)
    fail(file, "architecture.n_kv_heads", fmt::format("{} does not divide n_heads = {}", a.n_kv_heads, a.n_heads));
  if (f.has("head_dim")) {
    a.head_dim = f.integer("head_dim", 1, 65536);
  } else {
    if (a.d_model % a.n_heads != 0)
      fail(file, "architecture.head_dim", fmt::format("absent, and n_heads = {} does not divide d_model = {}", a.n_heads, a.d_model));
    a.head_dim = a.d_model / a.n_heads;
  }
  if (a.q_dim() > kMaxDim) fail(file, "architecture.head_dim", "n_heads * head_dim exceeds 2^20");
  a.d_ff = f.integer("d_ff", 1, kMaxDim);
  a.vocab_size = f.integer("vocab_size", 2, kMaxDim);
  a.max_seq_len = f.integer("max_seq_len", 1, kMaxDim);
  a.positions = f.choice<Positions>("positions", {{"rope", Positions::Rope}, {"learned", Positions::Learned}});
  a.rope_theta = f.number_or("rope_theta", 1e-6, 1e12, 10000.0);
  if (a.positions == Positions::Rope && a.head_dim % 2 != 0)
    fail(file, "architecture.head_dim", fmt::format("{} is odd; rotary positions need an even head_dim", a.head_dim));
  a.norm = f.choice<NormKind>("norm", {{"rmsnorm", NormKind::RmsNorm},
                                       {"rmsnorm_nogain", NormKind::RmsNormNoGain},
                                       {"layernorm", NormKind::LayerNorm}});
  a.norm_eps = f.number_or("norm_eps", 0.0, 1.0, 1e-5);
  a.ffn = f.choice<FfnKind>("ffn", {{"swiglu", FfnKind::SwiGLU}, {"relu2", FfnKind::ReLU2}, {"gelu", FfnKind::GELU}});
  a.sub_norm = f.boolean_or("sub_norm", false);
  a.tied_classifier = f.boolean_or("tied_classifier", true);
  return a;
}

// "<0x0A>" is the byte 0x0A; anything else is its UTF-8 bytes.
std::string decode_piece(const std::string& s, bool* is_byte) {
  const std::optional<unsigned char> byte = byte_fallback(s);
  *is_byte = byte.has_value();
  return byte ? std::string(1, static_cast<char>(*byte)) : s;
}

Tokenizer parse_tokenizer(const std::string& file, const json& j, const Architecture& a) {
  Fields f(file, j, "tokenizer");
  Tokenizer t;
  enum class Type { Bytes, Table, Bpe };
  const Type type = f.choice<Type>("type", {{"bytes", Type::Bytes}, {"table", Type::Table}, {"bpe", Type::Bpe}});
  t.bos = f.integer("bos", 0, a.vocab_size - 1);
  if (type == Type::Bytes) {
    for (int64_t i = 0; i < a.vocab_size; ++i) t.pieces.push_back(i < 256 ? std::string(1, static_cast<char>(i)) : "");
    return t;
  }
  const json& tokens = f.raw("tokens");
  if (!tokens.is_array()) fail(file, "tokenizer.tokens", "expected an array of strings");
  if (static_cast<int64_t>(tokens.size()) != a.vocab_size)
    fail(file, "tokenizer.tokens", fmt::format("has {} entries, architecture.vocab_size is {}", tokens.size(), a.vocab_size));
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (!tokens[i].is_string()) fail(file, fmt::format("tokenizer.tokens[{}]", i), "expected a string");
    bool is_byte = false;
    t.pieces.push_back(decode_piece(tokens[i].get<std::string>(), &is_byte));
    t.byte_fallback.push_back(is_byte);
  }
  if (type == Type::Table) {
    t.byte_fallback.clear();
    return t;
  }
  // BPE: "<0xNN>" tokens are the byte fallbacks; scores order the merges.
  t.kind = TokenizerKind::Bpe;
  if (a.vocab_size > kMaxBpeVocab)
    fail(file, "tokenizer.tokens", fmt::format("a bpe tokenizer holds at most {} tokens (16-bit ids); vocab_size is {}", kMaxBpeVocab, a.vocab_size));
  const json& scores = f.raw("scores");
  if (!scores.is_array() || scores.size() != tokens.size())
    fail(file, "tokenizer.scores", fmt::format("expected an array of {} numbers, one per token", tokens.size()));
  for (size_t i = 0; i < scores.size(); ++i) {
    if (!scores[i].is_number()) fail(file, fmt::format("tokenizer.scores[{}]", i), "expected a number");
    t.scores.push_back(scores[i].get<float>());
  }
  return t;
}

std::vector<int64_t> parse_shape(const std::string& file, const std::string& field, const json& j) {
  if (!j.is_array() || j.empty() || j.size() > 2) fail(file, field, "expected [rows, cols] or [n]");
  std::vector<int64_t> shape;
  for (size_t i = 0; i < j.size(); ++i) {
    if (!j[i].is_number_integer()) fail(file, fmt::format("{}[{}]", field, i), "expected an integer");
    if (j[i].is_number_unsigned() ? j[i].get<uint64_t>() > static_cast<uint64_t>(kMaxDim) : (j[i].get<int64_t>() < 1 || j[i].get<int64_t>() > kMaxDim))
      fail(file, fmt::format("{}[{}]", field, i), fmt::format("{} is out of range [1, 2^20]", j[i].dump()));
    shape.push_back(j[i].get<int64_t>());
  }
  return shape;
}

std::string shape_str(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

struct Span { int64_t begin, end; std::string owner; };

class TensorDecoder {
 public:
  TensorDecoder(const std::string& manifest, const std::string& sidecar, const std::vector<uint8_t>& bytes)
      : manifest_(manifest), sidecar_(sidecar), bytes_(bytes) {}

  Tensor decode(const json& j, size_t index, const std::map<std::string, TensorSpec>& specs) {
    const std::string where = fmt::format("tensors[{}]", index);
    Fields f(manifest_, j, where);
    Tensor t;
    t.name = f.string("name");
    const std::string at = fmt::format("tensors[{}] ('{}')", index, t.name);
    auto spec = specs.find(t.name);
    if (spec == specs.end()) fail(manifest_, at + ".name", "not a tensor of this architecture (see docs/model-format.md)");
    t.shape = parse_shape(manifest_, at + ".shape", f.raw("shape"));
    if (t.shape != spec->second.shape)
      fail(manifest_, at + ".shape", shape_str(t.shape) + " disagrees with the architecture, which needs " + shape_str(spec->second.shape));
    t.dtype = f.choice<WeightDType>("dtype", {{"f32", WeightDType::F32}, {"int8", WeightDType::Int8},
                                              {"ternary", WeightDType::Ternary}, {"binary", WeightDType::Binary}});
    if (!role_accepts(spec->second.role, t.dtype))
      fail(manifest_, at + ".dtype", std::string("\"") + dtype_name(t.dtype) + "\" is not allowed for this tensor");
    if (t.elements() > kMaxTensorElements) fail(manifest_, at + ".shape", "more than 2^31 elements");
    const int64_t offset = f.integer("offset", 0, kMaxSidecarBytes);
    const int64_t row_bytes = dtype_row_bytes(t.dtype, t.cols());
    claim(offset, row_bytes * t.rows(), t.name, at + ".offset");
    decode_data(t, offset, row_bytes, at);
    if (t.dtype == WeightDType::F32) {
      if (f.has("scales")) fail(manifest_, at + ".scales", "f32 tensors carry no scales");
    } else {
      decode_scales(t, Fields(manifest_, f.raw("scales"), at + ".scales"));
    }
    return t;
  }

 private:
  void claim(int64_t offset, int64_t length, const std::string& owner, const std::string& field) {
    if (offset + length > static_cast<int64_t>(bytes_.size()))
      fail(manifest_, field, fmt::format("bytes [{}, {}) of '{}' run past the end of {} ({} bytes)", offset, offset + length, owner, sidecar_, bytes_.size()));
    for (const Span& s : spans_)
      if (offset < s.end && s.begin < offset + length)
        fail(manifest_, field, fmt::format("bytes [{}, {}) overlap '{}' at [{}, {})", offset, offset + length, s.owner, s.begin, s.end));
    spans_.push_back({offset, offset + length, owner});
  }

  void decode_data(Tensor& t, int64_t offset, int64_t row_bytes, const std::string& at) {
    const uint8_t* base = bytes_.data() + offset;
    const int64_t rows = t.rows(), cols = t.cols();
    if (t.dtype == WeightDType::F32) {
      t.values.resize(static_cast<size_t>(t.elements()));
      for (int64_t i = 0; i < t.elements(); ++i) {
        uint32_t u = 0;
        for (int b = 0; b < 4; ++b) u |= static_cast<uint32_t>(base[4 * i + b]) << (8 * b);
        float v;
        std::memcpy(&v, &u, 4);
        if (!std::isfinite(v)) fail(sidecar_, "", fmt::format("byte offset {}: element {} of '{}' ({}) is not finite", offset + 4 * i, i, t.name, at));
        t.values[static_cast<size_t>(i)] = v;
      }
      return;
    }
    t.codes.resize(static_cast<size_t>(t.elements()));
    for (int64_t r = 0; r < rows; ++r) {
      const uint8_t* row = base + r * row_bytes;
      for (int64_t c = 0; c < cols; ++c) {
        int8_t code = 0;
        if (t.dtype == WeightDType::Int8) {
          code = static_cast<int8_t>(row[c]);
        } else if (t.dtype == WeightDType::Ternary) {
          const int bits = (row[c / 4] >> (2 * (c % 4))) & 3;
          if (bits == 2)
            fail(sidecar_, "", fmt::format("byte offset {}: invalid ternary code 10 (binary) for weight ({}, {}) of '{}'; codes are 00 = 0, 01 = +1, 11 = -1", offset + r * row_bytes + c / 4, r, c, t.name));
          code = bits == 0 ? 0 : (bits == 1 ? 1 : -1);
        } else {
          code = ((row[c / 8] >> (c % 8)) & 1) ? 1 : -1;
        }
        t.codes[static_cast<size_t>(r * cols + c)] = code;
      }
      const int bits_per = t.dtype == WeightDType::Ternary ? 2 : (t.dtype == WeightDType::Binary ? 1 : 8);
      const int64_t used_bits = cols * bits_per;
      if (used_bits % 8 != 0) {
        const uint8_t last = row[row_bytes - 1];
        if (last >> (used_bits % 8))
          fail(sidecar_, "", fmt::format("byte offset {}: padding bits at the end of row {} of '{}' are not zero", offset + r * row_bytes + row_bytes - 1, r, t.name));
      }
    }
  }

  void decode_scales(Tensor& t, const Fields& f) {
    enum class Gran { Tensor, Row };
    const Gran g = f.choice<Gran>("granularity", {{"tensor", Gran::Tensor}, {"row", Gran::Row}});
    const int64_t count = g == Gran::Tensor ? 1 : t.rows();
    const int64_t offset = f.integer("offset", 0, kMaxSidecarBytes);
    claim(offset, 4 * count, t.name + " scales", f.path("offset"));
    for (int64_t i = 0; i < count; ++i) {
      uint32_t u = 0;
      for (int b = 0; b < 4; ++b) u |= static_cast<uint32_t>(bytes_[static_cast<size_t>(offset + 4 * i + b)]) << (8 * b);
      float v;
      std::memcpy(&v, &u, 4);
      if (!std::isfinite(v) || v < 0)
        fail(sidecar_, "", fmt::format("byte offset {}: scale {} of '{}' is {}; scales must be finite and >= 0", offset + 4 * i, i, t.name, v));
      t.scales.push_back(v);
    }
  }

  const std::string& manifest_;
  const std::string& sidecar_;
  const std::vector<uint8_t>& bytes_;
  std::vector<Span> spans_;
};

std::string hex64(uint64_t v) { return fmt::format("{:016x}", v); }

}  // namespace

uint64_t fnv1a64(const uint8_t* data, size_t n, uint64_t h) {
  for (size_t i = 0; i < n; ++i) {
    h ^= data[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

Model load_model_json(const std::string& path) {
  const std::vector<uint8_t> text = read_file(path, kMaxManifestBytes, "model manifest");
  const json doc = parse_json_text(path, text);
  Fields top(path, doc, "");
  if (top.string("format") != "bitgptc-model") fail(path, "format", "expected \"bitgptc-model\"");
  const int64_t version = top.integer("version", 0, 1'000'000);
  if (version != kModelFormatVersion)
    fail(path, "version", fmt::format("{} is not supported; this bitgptc reads version {}", version, kModelFormatVersion));

  Model m;
  m.source = path;
  m.inputs = {path};
  m.name = top.string("name");
  if (!is_c_identifier(m.name, 48)) fail(path, "name", "\"" + m.name + "\" is not a C identifier of at most 48 characters");
  m.arch = parse_architecture(path, top.raw("architecture"));
  m.tokenizer = parse_tokenizer(path, top.raw("tokenizer"), m.arch);

  Fields w(path, top.raw("weights"), "weights");
  const std::string file = w.string("file");
  if (file.empty() || fs::path(file).is_absolute()) fail(path, "weights.file", "expected a path relative to the manifest");
  if (file.find('\0') != std::string::npos) fail(path, "weights.file", "contains a NUL character");
  const std::string sidecar = (fs::path(path).parent_path() / file).string();
  m.inputs.push_back(sidecar);
  const int64_t size = w.integer("bytes", 0, kMaxSidecarBytes);
  const std::string hash = w.string("fnv1a64");
  std::error_code ec;
  if (!fs::exists(sidecar, ec)) fail(path, "weights.file", "'" + sidecar + "' not found");
  const int64_t actual_size = check_input_file(sidecar, "weights file", kMaxSidecarBytes);
  if (actual_size != size) fail(sidecar, "", fmt::format("is {} bytes; {} weights.bytes says {} (truncated or stale?)", actual_size, path, size));
  const std::vector<uint8_t> bytes = read_file(sidecar, kMaxSidecarBytes, "weights file");
  const std::string actual = hex64(fnv1a64(bytes.data(), bytes.size()));
  if (actual != hash) fail(sidecar, "", "FNV-1a 64 hash is " + actual + "; " + path + " weights.fnv1a64 says " + hash + " (corrupt or stale?)");

  std::map<std::string, TensorSpec> specs;
  for (TensorSpec& s : tensor_schema(m.arch)) specs.emplace(s.name, s);
  const json& tensors = top.raw("tensors");
  if (!tensors.is_array()) fail(path, "tensors", "expected an array");
  TensorDecoder decoder(path, sidecar, bytes);
  for (size_t i = 0; i < tensors.size(); ++i) {
    Tensor t = decoder.decode(tensors[i], i, specs);
    if (m.tensors.count(t.name)) fail(path, fmt::format("tensors[{}].name", i), "'" + t.name + "' appears twice");
    m.tensors.emplace(t.name, std::move(t));
  }
  for (const auto& [name, spec] : specs)
    if (!m.tensors.count(name)) fail(path, "tensors", "missing tensor '" + name + "' with shape " + shape_str(spec.shape));
  return m;
}

}  // namespace bitgpt
