// Writes the seed corpora of the fuzz harnesses (tests/fuzz/seeds/<harness>/): small valid
// inputs of every format each harness reads, so fuzzing starts inside the formats.
//   make_fuzz_seeds OUT_DIR
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "frontend/gguf.h"
#include "frontend/hf_folder.h"
#include "tests/fuzz/fuzz_common.h"

namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

void put32(Bytes& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void putf(Bytes& b, float f) {
  uint32_t v;
  std::memcpy(&v, &f, 4);
  put32(b, v);
}
void floats(Bytes& b, int64_t n, float value) {
  for (int64_t i = 0; i < n; ++i) putf(b, value);
}

// dim 8, hidden 12, 1 layer, 2 heads (head size 4), 1 KV head, vocab 16, seq 8, tied.
constexpr int64_t dim = 8, hidden = 12, layers = 1, heads = 2, kv_heads = 1, vocab = 16, seq = 8;
constexpr int64_t kv = kv_heads * (dim / heads);
constexpr int64_t matrix_elements = layers * (dim * dim * 2 + dim * kv * 2 + dim * hidden * 3);

void config(Bytes& b) {
  for (int64_t v : {dim, hidden, layers, heads, kv_heads, vocab, seq}) put32(b, static_cast<uint32_t>(v));
}

Bytes legacy_checkpoint() {
  Bytes b;
  config(b);
  floats(b, vocab * dim + layers * dim * 2 + matrix_elements + dim + seq * (dim / heads), 0.05f);
  return b;
}

Bytes ak42_header(int version, int32_t group) {
  Bytes b;
  put32(b, 0x616b3432);
  put32(b, static_cast<uint32_t>(version));
  config(b);
  b.push_back(1);  // shared classifier
  if (version == 2) put32(b, static_cast<uint32_t>(group));
  b.resize(256, 0);
  return b;
}

Bytes version1_checkpoint() {
  Bytes b = ak42_header(1, 0);
  floats(b, layers * dim * 2 + dim + vocab * dim + matrix_elements, 0.05f);
  return b;
}

Bytes version2_checkpoint() {
  constexpr int32_t group = 8;
  Bytes b = ak42_header(2, group);
  floats(b, layers * dim * 2 + dim, 1.0f);  // norms
  const int64_t quantised = vocab * dim + matrix_elements;
  // each tensor: int8 values, then one float scale per group (the order does not matter here)
  for (int64_t i = 0; i < quantised; ++i) b.push_back(static_cast<uint8_t>(i % 7));
  floats(b, quantised / group, 0.01f);
  return b;
}

Bytes ternary_checkpoint() {
  Bytes b = ak42_header(1, 0);
  floats(b, dim, 1.0f);           // final norm
  floats(b, vocab * dim, 0.05f);  // embeddings
  for (int64_t rows_cols : {dim * dim, dim * kv, dim * kv, dim * dim, dim * hidden, dim * hidden, dim * hidden})
    for (int64_t l = 0; l < layers; ++l) {
      putf(b, 0.5f);
      for (int64_t i = 0; i < rows_cols / 4; ++i) b.push_back(static_cast<uint8_t>(0x47 + i));  // 01 00 01 11 ...
    }
  return b;
}

Bytes tokenizer() {
  Bytes b;
  put32(b, 8);  // max_token_length
  const char* pieces[vocab] = {"<unk>", "<s>", "</s>", "<0x0A>", " ", "a", "b", "c", "ab", " a", " ab", "ca", "<0x41>", " c", "bc", "abc"};
  for (int64_t i = 0; i < vocab; ++i) {
    putf(b, -static_cast<float>(i));
    put32(b, static_cast<uint32_t>(std::strlen(pieces[i])));
    b.insert(b.end(), pieces[i], pieces[i] + std::strlen(pieces[i]));
  }
  return b;
}

// The two-part layout of bitgpt::fuzz::split.
Bytes joined(const Bytes& first, const Bytes& second) {
  Bytes b;
  put32(b, static_cast<uint32_t>(first.size()));
  b.insert(b.end(), first.begin(), first.end());
  b.insert(b.end(), second.begin(), second.end());
  return b;
}

void write(const fs::path& path, const Bytes& b) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_fuzz_seeds OUT_DIR\n";
    return 2;
  }
  const fs::path out = argv[1];
  std::ifstream in(bitgpt::fuzz::write_seed_model(), std::ios::binary);
  const Bytes manifest((std::istreambuf_iterator<char>(in)), {});
  write(out / "model_json" / "seed.json", manifest);
  write(out / "pipeline" / "seed.json", manifest);
  write(out / "llama2c" / "legacy.bin", joined(legacy_checkpoint(), tokenizer()));
  write(out / "llama2c" / "version1.bin", joined(version1_checkpoint(), tokenizer()));
  write(out / "llama2c" / "version2_q8.bin", joined(version2_checkpoint(), tokenizer()));
  write(out / "llama2c" / "bitllama2c.bin", joined(ternary_checkpoint(), tokenizer()));
  const std::string text = std::string("\x0d\x00", 2) + " abc cab\nA ab";  // vocab 3 + 13 = 16
  write(out / "tokenizer" / "seed.bin", joined(Bytes(text.begin(), text.end()), tokenizer()));
  // GGUF: a llama model with a SentencePiece vocabulary, and a bitnet one with a table
  for (const bool bitnet : {false, true}) {
    bitgpt::RandomModelSpec s = bitgpt::shaped_spec("fuzz", 4, 1, 2, 1, 2, 8, bitnet ? 260 : 320, 16);
    s.arch.sub_norm = bitnet;
    s.tokenizer = bitnet ? "table" : "bpe";
    write(out / "gguf" / (bitnet ? "bitnet_table.gguf" : "llama_bpe.gguf"), bitgpt::gguf_bytes(bitgpt::random_model(s)));
  }
  // Hugging Face: config.json and model.safetensors of the seed model, joined as fuzz_hf
  // splits them (its tokenizer.json is fixed)
  const std::map<std::string, std::string> hf = bitgpt::hf_folder_files(bitgpt::fuzz::seed_model());
  const Bytes config(hf.at("config.json").begin(), hf.at("config.json").end());
  write(out / "hf" / "bitnet_packed.bin", joined(config, Bytes(hf.at("model.safetensors").begin(), hf.at("model.safetensors").end())));
  std::filesystem::remove_all(bitgpt::fuzz::temp_dir());
  return 0;
}
