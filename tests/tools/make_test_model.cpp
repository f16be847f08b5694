// Writes a model.json + sidecar with deterministic random weights for any architecture
// the format allows. The end-to-end tests and the shipped example shapes use it.
//   make_test_model --out dir/model.json --d 128 --layers 4 --heads 4 --kv-heads 1 ...
#include <CLI/CLI.hpp>

#include <cmath>
#include <filesystem>
#include <iostream>
#include <random>

#include "frontend/diagnostics.h"
#include "frontend/model_json.h"
#include "frontend/tensor_schema.h"

using namespace bitgpt;

int main(int argc, char** argv) {
  CLI::App app{"make_test_model: a random-weight bitgptc model"};
  std::string out, name = "test_model", positions = "rope", norm = "rmsnorm", ffn = "swiglu", dtype = "ternary", tokenizer = "bytes";
  Architecture a;
  a.d_model = 32;
  a.n_layers = 2;
  a.n_heads = 4;
  a.n_kv_heads = 2;
  a.head_dim = 0;
  a.d_ff = 64;
  a.vocab_size = 256;
  a.max_seq_len = 64;
  bool untied = false, per_row = false;
  uint64_t seed = 1;
  int64_t bos = 10;
  app.add_option("--out", out, "manifest path (the sidecar goes beside it)")->required();
  app.add_option("--name", name);
  app.add_option("--d", a.d_model);
  app.add_option("--layers", a.n_layers);
  app.add_option("--heads", a.n_heads);
  app.add_option("--kv-heads", a.n_kv_heads);
  app.add_option("--head-dim", a.head_dim, "default d / heads");
  app.add_option("--ff", a.d_ff);
  app.add_option("--vocab", a.vocab_size);
  app.add_option("--max-seq", a.max_seq_len);
  app.add_option("--positions", positions, "rope | learned");
  app.add_option("--norm", norm, "rmsnorm | rmsnorm_nogain | layernorm");
  app.add_option("--ffn", ffn, "swiglu | relu2 | gelu");
  app.add_flag("--sub-norm", a.sub_norm);
  app.add_flag("--untied", untied, "a separate classifier matrix");
  app.add_option("--dtype", dtype, "matrix dtype: ternary | binary | int8 | f32");
  app.add_flag("--per-row", per_row, "one scale per row instead of per tensor");
  app.add_option("--tokenizer", tokenizer, "bytes | table (a small synthetic table)");
  app.add_option("--bos", bos);
  app.add_option("--seed", seed);
  CLI11_PARSE(app, argc, argv);
  try {
    if (a.head_dim == 0) a.head_dim = a.d_model / a.n_heads;
    a.positions = positions == "learned" ? Positions::Learned : Positions::Rope;
    a.norm = norm == "layernorm" ? NormKind::LayerNorm : (norm == "rmsnorm_nogain" ? NormKind::RmsNormNoGain : NormKind::RmsNorm);
    a.ffn = ffn == "relu2" ? FfnKind::ReLU2 : (ffn == "gelu" ? FfnKind::GELU : FfnKind::SwiGLU);
    a.tied_classifier = !untied;
    const WeightDType mdt = dtype == "binary" ? WeightDType::Binary
                           : dtype == "int8"  ? WeightDType::Int8
                           : dtype == "f32"   ? WeightDType::F32
                                              : WeightDType::Ternary;
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> normal(0.0, 1.0);
    Model m;
    m.name = name;
    m.arch = a;
    m.tokenizer.bos = std::min<int64_t>(bos, a.vocab_size - 1);
    for (int64_t i = 0; i < a.vocab_size; ++i) {
      if (tokenizer == "table") {
        // printable characters, then a few two-character pieces so longest match matters
        static const std::string alpha = " etaoinshrdlucmfwypvbgkjqxz.,\n";
        const int64_t k = static_cast<int64_t>(alpha.size());
        m.tokenizer.pieces.push_back(i < k ? alpha.substr(i, 1) : alpha.substr(i % k, 1) + alpha.substr((i / k) % k, 1));
      } else {
        m.tokenizer.pieces.push_back(i < 256 ? std::string(1, static_cast<char>(i)) : "");
      }
    }
    for (const TensorSpec& spec : tensor_schema(a)) {
      Tensor t;
      t.name = spec.name;
      t.shape = spec.shape;
      const int64_t n = t.rows() * t.cols();
      if (spec.role == TensorRole::NormGain || spec.role == TensorRole::NormBias) {
        t.dtype = WeightDType::F32;
        for (int64_t i = 0; i < n; ++i) t.values.push_back(static_cast<float>((spec.role == TensorRole::NormGain ? 1.0 : 0.0) + 0.1 * normal(rng)));
      } else if (spec.role == TensorRole::Table) {
        t.dtype = WeightDType::F32;
        for (int64_t i = 0; i < n; ++i) t.values.push_back(static_cast<float>(normal(rng)));
      } else {
        t.dtype = mdt;
        const double sd = 1.0 / std::sqrt(static_cast<double>(t.cols()));
        if (mdt == WeightDType::F32) {
          for (int64_t i = 0; i < n; ++i) t.values.push_back(static_cast<float>(sd * normal(rng)));
        } else {
          std::uniform_int_distribution<int> code(mdt == WeightDType::Int8 ? -127 : -1, mdt == WeightDType::Int8 ? 127 : 1);
          for (int64_t i = 0; i < n; ++i) {
            int c = code(rng);
            if (mdt == WeightDType::Binary && c == 0) c = 1;
            t.codes.push_back(static_cast<int8_t>(c));
          }
          const double unit = mdt == WeightDType::Int8 ? sd / 73.0 : sd * (mdt == WeightDType::Binary ? 1.0 : 1.22);
          const int64_t scales = per_row ? t.rows() : 1;
          for (int64_t r = 0; r < scales; ++r) t.scales.push_back(static_cast<float>(unit * (per_row ? 0.5 + (r % 7) / 7.0 : 1.0)));
        }
      }
      m.tensors.emplace(t.name, std::move(t));
    }
    std::filesystem::create_directories(std::filesystem::absolute(out).parent_path());
    write_model_json(m, out);
  } catch (const Error& e) {
    std::cerr << "make_test_model: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
