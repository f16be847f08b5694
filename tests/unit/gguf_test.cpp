// GGUF: what the writer writes, the reader reads back as the same model (ternary stays
// ternary with its codes and scale, the tokenizer keeps its pieces and scores), for the
// llama architecture and for bitnet (sub-norms, rotary rows permuted both ways).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "frontend/gguf.h"
#include "support/diagnostics.h"
#include "tests/tools/random_model.h"
#include "tests/unit/model_equality.h"

namespace bitgpt {
namespace {

namespace fs = std::filesystem;

Model round_trip(const Model& m) {
  const fs::path path = fs::temp_directory_path() / ("bitgpt_gguf_" + std::to_string(getpid()) + ".gguf");
  const std::vector<uint8_t> bytes = gguf_bytes(m);
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  EXPECT_TRUE(looks_like_gguf(path.string()));
  Model back = load_gguf(path.string());
  fs::remove(path);
  return back;
}

void expect_same(const Model& a, const Model& b) {
  expect_same_weights(a, b);
  EXPECT_EQ(a.tokenizer.scores, b.tokenizer.scores);
}

RandomModelSpec bpe_spec(bool sub_norm) {
  RandomModelSpec s = small_spec("gguf_model");
  s.arch.sub_norm = sub_norm;
  s.arch.head_dim = 8;
  s.arch.n_heads = 4;  // q_dim = d_model, as llama.cpp's bitnet needs
  s.arch.vocab_size = 320;
  s.tokenizer = "bpe";
  return s;
}

// A tensor whose data offset is near 2^64 (found by fuzz.gguf: offset + data start wrapped
// around and passed the bounds check): a clear error naming the tensor, no wild pointer.
TEST(Gguf, DataOffsetThatWrapsAroundIsAnError) {
  std::vector<uint8_t> bytes = gguf_bytes(random_model(bpe_spec(false)));
  const std::string name = "token_embd.weight";
  const auto at = std::search(bytes.begin(), bytes.end(), name.begin(), name.end());
  ASSERT_NE(at, bytes.end());
  size_t pos = static_cast<size_t>(at - bytes.begin()) + name.size();
  uint32_t n_dims = 0;
  std::memcpy(&n_dims, &bytes[pos], 4);
  pos += 4 + 8 * n_dims + 4;  // the dimensions, then the type: the data offset follows
  const uint64_t hostile = ~uint64_t{0} - 31;  // a multiple of the alignment, 32 below 2^64
  std::memcpy(&bytes[pos], &hostile, 8);
  const fs::path path = fs::temp_directory_path() / ("bitgpt_gguf_wrap_" + std::to_string(getpid()) + ".gguf");
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  try {
    load_gguf(path.string());
    ADD_FAILURE() << "a data offset of 2^64 - 32 was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tensor token_embd.weight"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("run past the end of the file"), std::string::npos) << e.what();
  }
  fs::remove(path);
}

TEST(Gguf, LlamaRoundTrip) {
  const Model m = random_model(bpe_spec(false));
  expect_same(m, round_trip(m));
}

TEST(Gguf, BitnetRoundTripPermutesRotaryRowsBothWays) {
  const Model m = random_model(bpe_spec(true));
  const Model back = round_trip(m);
  EXPECT_TRUE(back.arch.sub_norm);
  expect_same(m, back);
}

TEST(Gguf, TableTokenizerComesBackAsATable) {
  RandomModelSpec s = bpe_spec(true);
  s.tokenizer = "table";
  s.arch.vocab_size = 300;
  const Model m = random_model(s);
  const Model back = round_trip(m);
  EXPECT_EQ(back.tokenizer.kind, TokenizerKind::Table);
  expect_same(m, back);
}

TEST(Gguf, BinaryStaysBinary) {
  RandomModelSpec s = bpe_spec(false);
  s.matrix_dtype = WeightDType::Binary;
  const Model m = random_model(s);
  expect_same(m, round_trip(m));
}

TEST(Gguf, LearnedPositionsAreRefusedByName) {
  RandomModelSpec s = bpe_spec(false);
  s.arch.positions = Positions::Learned;
  try {
    gguf_bytes(random_model(s));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("learned positions"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bitgpt
