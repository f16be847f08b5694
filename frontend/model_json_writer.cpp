// Writing the native format (docs/model-format.md): a manifest and its weights sidecar,
// from a Model; what the test tools and the exporters' round trips use.
#include "frontend/model_json.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "frontend/tensor_schema.h"
#include "support/diagnostics.h"
#include "support/text.h"

namespace bitgpt {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

void put_f32(std::vector<uint8_t>& out, float v) {
  uint32_t u;
  std::memcpy(&u, &v, 4);
  for (int b = 0; b < 4; ++b) out.push_back(static_cast<uint8_t>(u >> (8 * b)));
}

}  // namespace

void write_model_json(const Model& m, const std::string& json_path) {
  const fs::path jp(json_path);
  const std::string stem = jp.stem().string();
  const std::string sidecar_name = stem + ".weights.bin";
  std::vector<uint8_t> blob;
  json tensors = json::array();
  for (const TensorSpec& spec : tensor_schema(m.arch)) {
    const Tensor& t = m.tensor(spec.name);
    json e = {{"name", t.name}, {"shape", t.shape}, {"dtype", dtype_name(t.dtype)}, {"offset", blob.size()}};
    if (t.dtype == WeightDType::F32) {
      for (float v : t.values) put_f32(blob, v);
    } else {
      const int64_t row_bytes = dtype_row_bytes(t.dtype, t.cols());
      for (int64_t r = 0; r < t.rows(); ++r) {
        std::vector<uint8_t> row(static_cast<size_t>(row_bytes), 0);
        for (int64_t c = 0; c < t.cols(); ++c) {
          const int8_t code = t.codes[static_cast<size_t>(r * t.cols() + c)];
          if (t.dtype == WeightDType::Int8) row[c] = static_cast<uint8_t>(code);
          else if (t.dtype == WeightDType::Ternary) row[c / 4] |= static_cast<uint8_t>((code == 0 ? 0 : (code > 0 ? 1 : 3)) << (2 * (c % 4)));
          else if (code > 0) row[c / 8] |= static_cast<uint8_t>(1 << (c % 8));
        }
        blob.insert(blob.end(), row.begin(), row.end());
      }
      while (blob.size() % 4) blob.push_back(0);
      e["scales"] = {{"granularity", t.scales.size() == 1 ? "tensor" : "row"}, {"offset", blob.size()}};
      for (float s : t.scales) put_f32(blob, s);
    }
    tensors.push_back(e);
  }
  const Architecture& a = m.arch;
  const char* norm = a.norm == NormKind::RmsNorm ? "rmsnorm" : (a.norm == NormKind::LayerNorm ? "layernorm" : "rmsnorm_nogain");
  const char* ffn = a.ffn == FfnKind::SwiGLU ? "swiglu" : (a.ffn == FfnKind::ReLU2 ? "relu2" : "gelu");
  const bool bpe = m.tokenizer.kind == TokenizerKind::Bpe;
  json tok = {{"type", bpe ? "bpe" : "table"}, {"bos", m.tokenizer.bos}};
  tok["tokens"] = json::array();
  for (size_t i = 0; i < m.tokenizer.pieces.size(); ++i) {
    const std::string& p = m.tokenizer.pieces[i];
    tok["tokens"].push_back(bpe ? (m.tokenizer.byte_fallback[i] ? fmt::format("<0x{:02X}>", static_cast<unsigned char>(p[0])) : p) : table_token_text(p));
  }
  if (bpe) tok["scores"] = m.tokenizer.scores;
  json doc = {
      {"format", "bitgptc-model"},
      {"version", kModelFormatVersion},
      {"name", m.name},
      {"architecture",
       {{"d_model", a.d_model}, {"n_layers", a.n_layers}, {"n_heads", a.n_heads}, {"n_kv_heads", a.n_kv_heads},
        {"head_dim", a.head_dim}, {"d_ff", a.d_ff}, {"vocab_size", a.vocab_size}, {"max_seq_len", a.max_seq_len},
        {"positions", a.positions == Positions::Rope ? "rope" : "learned"}, {"rope_theta", a.rope_theta},
        {"norm", norm}, {"norm_eps", a.norm_eps}, {"ffn", ffn}, {"sub_norm", a.sub_norm},
        {"tied_classifier", a.tied_classifier}}},
      {"tokenizer", tok},
      {"weights", {{"file", sidecar_name}, {"bytes", blob.size()}, {"fnv1a64", fmt::format("{:016x}", fnv1a64(blob.data(), blob.size()))}}},
      {"tensors", tensors}};
  const fs::path dir = jp.parent_path().empty() ? fs::path(".") : jp.parent_path();
  std::ofstream bin(dir / sidecar_name, std::ios::binary);
  bin.write(reinterpret_cast<const char*>(blob.data()), static_cast<std::streamsize>(blob.size()));
  std::ofstream js(json_path);
  js << doc.dump(1) << "\n";
  if (!bin || !js) throw Error(json_path + ": cannot write the model");
}

}  // namespace bitgpt
