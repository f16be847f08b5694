// The model.json loader: a round trip, and one test per kind of bad input, each checking
// that the message names the file and the field or byte offset.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/diagnostics.h"
#include "frontend/model_json.h"
#include "frontend/tensor_schema.h"

namespace {

using namespace bitgpt;
namespace fs = std::filesystem;
using nlohmann::json;

Model small_model() {
  Model m;
  m.name = "small";
  m.arch.d_model = 6;
  m.arch.n_layers = 1;
  m.arch.n_heads = 2;
  m.arch.n_kv_heads = 1;
  m.arch.head_dim = 4;
  m.arch.d_ff = 5;
  m.arch.vocab_size = 7;
  m.arch.max_seq_len = 8;
  m.arch.sub_norm = true;
  m.tokenizer.bos = 0;
  for (const char* p : {"", "a", "b", "ab", " ", "\n", "c"}) m.tokenizer.pieces.push_back(p);
  int k = 0;
  for (const TensorSpec& s : tensor_schema(m.arch)) {
    Tensor t;
    t.name = s.name;
    t.shape = s.shape;
    if (s.role == TensorRole::Matrix) {
      t.dtype = WeightDType::Ternary;
      for (int64_t i = 0; i < t.elements(); ++i) t.codes.push_back(static_cast<int8_t>((i + k) % 3 - 1));
      t.scales = {0.25f};
    } else {
      t.dtype = WeightDType::F32;
      for (int64_t i = 0; i < t.elements(); ++i) t.values.push_back(0.5f + static_cast<float>(i % 5) * 0.1f);
    }
    ++k;
    m.tensors.emplace(t.name, t);
  }
  return m;
}

class LoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("bitgpt_frontend_" + std::to_string(::getpid()) + "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    path_ = (dir_ / "model.json").string();
    write_model_json(small_model(), path_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  json manifest() const { return json::parse(std::ifstream(path_)); }
  void save(const json& j) const { std::ofstream(path_) << j.dump(); }
  std::string sidecar() const { return (dir_ / "model.weights.bin").string(); }
  // Rewrites the sidecar and its recorded size and hash so only the content is wrong.
  void replace_sidecar(const std::vector<uint8_t>& bytes) const {
    std::ofstream(sidecar(), std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    json j = manifest();
    j["weights"]["bytes"] = bytes.size();
    j["weights"]["fnv1a64"] = fmt_hash(fnv1a64(bytes.data(), bytes.size()));
    save(j);
  }
  static std::string fmt_hash(uint64_t h) {
    char b[17];
    std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(h));
    return b;
  }
  std::vector<uint8_t> sidecar_bytes() const {
    std::ifstream in(sidecar(), std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  // Loads and returns the error message ("" when it loads).
  std::string load_error() const {
    try {
      load_model_json(path_);
      return "";
    } catch (const Error& e) {
      return e.what();
    }
  }

  static size_t first_ternary(const json& j) {
    size_t i = 0;
    while (j["tensors"][i]["dtype"] != "ternary") ++i;
    return i;
  }

  fs::path dir_;
  std::string path_;
};

#define EXPECT_ERROR_HAS(msg, ...)                                                               \
  do {                                                                                           \
    const std::string m_ = (msg);                                                                \
    ASSERT_FALSE(m_.empty()) << "expected a load error";                                         \
    for (const std::string& part : std::initializer_list<std::string>{__VA_ARGS__}) EXPECT_NE(m_.find(part), std::string::npos) << m_;    \
  } while (0)

TEST_F(LoaderTest, RoundTrip) {
  const Model a = small_model();
  const Model b = load_model_json(path_);
  EXPECT_EQ(b.name, "small");
  EXPECT_EQ(b.arch.d_ff, 5);
  EXPECT_EQ(b.tokenizer.pieces, a.tokenizer.pieces);
  ASSERT_EQ(b.tensors.size(), a.tensors.size());
  for (const auto& [name, t] : a.tensors) {
    EXPECT_EQ(b.tensor(name).codes, t.codes) << name;
    EXPECT_EQ(b.tensor(name).values, t.values) << name;
    EXPECT_EQ(b.tensor(name).scales, t.scales) << name;
  }
}

TEST_F(LoaderTest, MissingManifest) { fs::remove(path_); EXPECT_ERROR_HAS(load_error(), "model.json", "not found"); }

TEST_F(LoaderTest, MissingSidecar) { fs::remove(sidecar()); EXPECT_ERROR_HAS(load_error(), "weights.file", "not found"); }

TEST_F(LoaderTest, InvalidJsonNamesByteOffset) {
  std::ofstream(path_) << "{\"format\": \"bitgptc-model\",\n \"version\": 1,, }";
  EXPECT_ERROR_HAS(load_error(), "model.json", "byte offset 43", "not valid JSON");
}

TEST_F(LoaderTest, OversizedManifest) {
  fs::resize_file(path_, (int64_t{64} << 20) + 1);
  EXPECT_ERROR_HAS(load_error(), "model.json", "more than");
}

TEST_F(LoaderTest, WrongVersion) {
  json j = manifest();
  j["version"] = 2;
  save(j);
  EXPECT_ERROR_HAS(load_error(), "version", "not supported");
}

TEST_F(LoaderTest, TruncatedSidecar) {
  fs::resize_file(sidecar(), fs::file_size(sidecar()) - 3);
  EXPECT_ERROR_HAS(load_error(), "model.weights.bin", "truncated");
}

TEST_F(LoaderTest, HashMismatch) {
  std::vector<uint8_t> bytes = sidecar_bytes();
  bytes[0] ^= 0x40;
  std::ofstream(sidecar(), std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  EXPECT_ERROR_HAS(load_error(), "model.weights.bin", "FNV-1a 64", "corrupt");
}

TEST_F(LoaderTest, UnknownDtype) {
  json j = manifest();
  j["tensors"][1]["dtype"] = "int3";
  save(j);
  EXPECT_ERROR_HAS(load_error(), "tensors[1]", "dtype", "\"int3\" is not one of");
}

TEST_F(LoaderTest, AbsurdDimension) {
  json j = manifest();
  j["architecture"]["d_model"] = int64_t{1} << 40;
  save(j);
  EXPECT_ERROR_HAS(load_error(), "architecture.d_model", "out of range");
}

TEST_F(LoaderTest, NegativeCount) {
  json j = manifest();
  j["architecture"]["n_layers"] = -3;
  save(j);
  EXPECT_ERROR_HAS(load_error(), "architecture.n_layers", "-3 is out of range");
}

TEST_F(LoaderTest, ShapeDisagreesWithArchitecture) {
  json j = manifest();
  j["tensors"][1]["shape"] = {8, 6};
  save(j);
  EXPECT_ERROR_HAS(load_error(), "tensors[1]", "shape", "disagrees");
}

TEST_F(LoaderTest, MissingTensor) {
  json j = manifest();
  j["tensors"].erase(j["tensors"].begin() + 1);
  save(j);
  EXPECT_ERROR_HAS(load_error(), "missing tensor");
}

TEST_F(LoaderTest, TensorPastEndOfSidecar) {
  json j = manifest();
  j["tensors"][1]["offset"] = j["weights"]["bytes"].get<int64_t>() - 2;
  save(j);
  EXPECT_ERROR_HAS(load_error(), "tensors[1]", "run past the end");
}

TEST_F(LoaderTest, NanScale) {
  json j = manifest();
  const int64_t off = j["tensors"][first_ternary(j)]["scales"]["offset"].get<int64_t>();
  std::vector<uint8_t> bytes = sidecar_bytes();
  const uint32_t nan = 0x7fc00000u;
  for (int b = 0; b < 4; ++b) bytes[static_cast<size_t>(off + b)] = static_cast<uint8_t>(nan >> (8 * b));
  replace_sidecar(bytes);
  EXPECT_ERROR_HAS(load_error(), "model.weights.bin", "byte offset " + std::to_string(off), "finite");
}

TEST_F(LoaderTest, InfinityInF32Tensor) {
  json j = manifest();
  const int64_t off = j["tensors"][0]["offset"].get<int64_t>();
  std::vector<uint8_t> bytes = sidecar_bytes();
  const uint32_t inf = 0x7f800000u;
  for (int b = 0; b < 4; ++b) bytes[static_cast<size_t>(off + 4 + b)] = static_cast<uint8_t>(inf >> (8 * b));
  replace_sidecar(bytes);
  EXPECT_ERROR_HAS(load_error(), "byte offset " + std::to_string(off + 4), "not finite");
}

TEST_F(LoaderTest, InvalidTernaryCode) {
  json j = manifest();
  const int64_t off = j["tensors"][first_ternary(j)]["offset"].get<int64_t>();
  std::vector<uint8_t> bytes = sidecar_bytes();
  bytes[static_cast<size_t>(off)] = static_cast<uint8_t>((bytes[static_cast<size_t>(off)] & ~0x0C) | 0x08);  // weight 1 := code 10
  replace_sidecar(bytes);
  EXPECT_ERROR_HAS(load_error(), "byte offset " + std::to_string(off), "invalid ternary code");
}

TEST_F(LoaderTest, TokenTableOfWrongLength) {
  json j = manifest();
  j["tokenizer"]["tokens"].erase(0);
  save(j);
  EXPECT_ERROR_HAS(load_error(), "tokenizer.tokens", "vocab_size");
}

TEST_F(LoaderTest, BpeTokenizerNeedsOneScorePerToken) {
  json j = manifest();
  j["tokenizer"]["type"] = "bpe";
  save(j);
  EXPECT_ERROR_HAS(load_error(), "tokenizer.scores", "missing");
  j["tokenizer"]["scores"] = {1.0};
  save(j);
  EXPECT_ERROR_HAS(load_error(), "tokenizer.scores", "one per token");
  j["tokenizer"]["scores"] = json::array();
  for (size_t i = 0; i < j["tokenizer"]["tokens"].size(); ++i) j["tokenizer"]["scores"].push_back(-static_cast<double>(i));
  j["tokenizer"]["scores"][2] = "high";
  save(j);
  EXPECT_ERROR_HAS(load_error(), "tokenizer.scores[2]", "expected a number");
}

TEST_F(LoaderTest, BpeTokenizerRoundTrips) {
  json j = manifest();
  j["tokenizer"]["type"] = "bpe";
  j["tokenizer"]["tokens"][5] = "<0x0A>";
  j["tokenizer"]["scores"] = json::array();
  for (size_t i = 0; i < j["tokenizer"]["tokens"].size(); ++i) j["tokenizer"]["scores"].push_back(-static_cast<double>(i));
  save(j);
  const Model a = load_model_json(path_);
  ASSERT_EQ(a.tokenizer.kind, TokenizerKind::Bpe);
  EXPECT_TRUE(a.tokenizer.byte_fallback[5]);
  EXPECT_FALSE(a.tokenizer.byte_fallback[4]);
  write_model_json(a, path_);
  const Model b = load_model_json(path_);
  EXPECT_EQ(b.tokenizer.pieces, a.tokenizer.pieces);
  EXPECT_EQ(b.tokenizer.scores, a.tokenizer.scores);
  EXPECT_EQ(b.tokenizer.byte_fallback, a.tokenizer.byte_fallback);
}

TEST_F(LoaderTest, HeadsMustDivide) {
  json j = manifest();
  j["architecture"]["n_kv_heads"] = 3;
  save(j);
  EXPECT_ERROR_HAS(load_error(), "n_kv_heads", "does not divide");
}

}  // namespace
