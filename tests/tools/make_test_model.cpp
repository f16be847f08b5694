// Writes a model.json + sidecar with deterministic random weights for any architecture
// the format allows. The end-to-end tests and the shipped example shapes use it.
//   make_test_model --out dir/model.json --d 128 --layers 4 --heads 4 --kv-heads 1 ...
#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>

#include "support/diagnostics.h"
#include "frontend/model_json.h"
#include "tests/tools/random_model.h"

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
  app.add_option("--tokenizer", tokenizer, "bytes | table (a small synthetic table) | bpe (a small sentencepiece-shaped vocabulary)");
  app.add_option("--bos", bos);
  app.add_option("--seed", seed);
  CLI11_PARSE(app, argc, argv);
  try {
    if (a.head_dim == 0) a.head_dim = a.d_model / a.n_heads;
    a.positions = positions == "learned" ? Positions::Learned : Positions::Rope;
    a.norm = norm == "layernorm" ? NormKind::LayerNorm : (norm == "rmsnorm_nogain" ? NormKind::RmsNormNoGain : NormKind::RmsNorm);
    a.ffn = ffn == "relu2" ? FfnKind::ReLU2 : (ffn == "gelu" ? FfnKind::GELU : FfnKind::SwiGLU);
    a.tied_classifier = !untied;
    RandomModelSpec spec;
    spec.name = name;
    spec.arch = a;
    spec.matrix_dtype = dtype == "binary" ? WeightDType::Binary
                      : dtype == "int8"   ? WeightDType::Int8
                      : dtype == "f32"    ? WeightDType::F32
                                          : WeightDType::Ternary;
    spec.per_row = per_row;
    spec.tokenizer = tokenizer;
    spec.bos = bos;
    spec.seed = seed;
    const Model m = random_model(spec);
    std::filesystem::create_directories(std::filesystem::absolute(out).parent_path());
    write_model_json(m, out);
  } catch (const Error& e) {
    std::cerr << "make_test_model: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
