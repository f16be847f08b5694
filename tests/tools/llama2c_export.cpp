// Re-exports a llama2.c checkpoint in the version 1 (float32) and version 2 (Q8_0)
// layouts of llama2.c's export.py, so the importer's other paths are tested on a real
// model: version 1 must import to exactly the same weights, version 2 close to them.
//   llama2c_export MODEL.bin TOKENIZER.bin OUT_V1.bin OUT_V2.bin [GROUP]
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "support/diagnostics.h"
#include "frontend/load_model.h"

using namespace bitgpt;

namespace {

struct Out {
  std::ofstream f;
  void i32(int32_t v) { f.write(reinterpret_cast<const char*>(&v), 4); }
  void u8(uint8_t v) { f.write(reinterpret_cast<const char*>(&v), 1); }
  void f32s(const std::vector<float>& v) { f.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(4 * v.size())); }
  void pad_to(std::streamoff n) {
    while (f.tellp() < n) u8(0);
  }
};

std::vector<float> values(const Model& m, const std::string& name) {
  const Tensor& t = m.tensor(name);
  std::vector<float> v;
  for (int64_t r = 0; r < t.rows(); ++r)
    for (int64_t c = 0; c < t.cols(); ++c) v.push_back(static_cast<float>(t.at(r, c)));
  return v;
}

void header(Out& o, const Model& m, int version) {
  const Architecture& a = m.arch;
  o.i32(0x616b3432);
  o.i32(version);
  for (int64_t v : {a.d_model, a.d_ff, a.n_layers, a.n_heads, a.n_kv_heads, a.vocab_size, a.max_seq_len}) o.i32(static_cast<int32_t>(v));
  o.u8(a.tied_classifier ? 1 : 0);
}

std::vector<std::string> matrices(const Model& m) {
  std::vector<std::string> names = {"tok_embeddings"};
  for (const char* w : {"attn.wq", "attn.wk", "attn.wv", "attn.wo", "ffn.w1", "ffn.w2", "ffn.w3"})
    for (int64_t l = 0; l < m.arch.n_layers; ++l) names.push_back("layers." + std::to_string(l) + "." + w);
  if (!m.arch.tied_classifier) names.push_back("classifier");
  return names;
}

void norms(Out& o, const Model& m) {
  for (const char* n : {"attn_norm", "ffn_norm"})
    for (int64_t l = 0; l < m.arch.n_layers; ++l) o.f32s(values(m, "layers." + std::to_string(l) + "." + n + ".weight"));
  o.f32s(values(m, "final_norm.weight"));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::cerr << "usage: llama2c_export MODEL.bin TOKENIZER.bin OUT_V1.bin OUT_V2.bin [GROUP]\n";
    return 2;
  }
  try {
    const Model m = load_model(argv[1], argv[2]);
    const int group = argc > 5 ? std::stoi(argv[5]) : 32;
    {
      Out o{std::ofstream(argv[3], std::ios::binary)};
      header(o, m, 1);
      o.pad_to(256);
      norms(o, m);
      std::vector<std::string> names = matrices(m);
      // version 1 writes the embedding before the layer matrices, like version 2
      for (const std::string& n : names) o.f32s(values(m, n));
    }
    {
      Out o{std::ofstream(argv[4], std::ios::binary)};
      header(o, m, 2);
      o.i32(group);
      o.pad_to(256);
      norms(o, m);
      for (const std::string& n : matrices(m)) {
        const std::vector<float> v = values(m, n);
        std::vector<int8_t> q(v.size());
        std::vector<float> scales;
        for (size_t g = 0; g < v.size(); g += static_cast<size_t>(group)) {
          float amax = 0;
          for (size_t i = g; i < g + static_cast<size_t>(group); ++i) amax = std::max(amax, std::fabs(v[i]));
          const float s = amax / 127.0f;
          scales.push_back(s);
          for (size_t i = g; i < g + static_cast<size_t>(group); ++i) q[i] = static_cast<int8_t>(s > 0 ? std::lround(v[i] / s) : 0);
        }
        o.f.write(reinterpret_cast<const char*>(q.data()), static_cast<std::streamsize>(q.size()));
        o.f32s(scales);
      }
    }
  } catch (const Error& e) {
    std::cerr << "llama2c_export: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
