// Hugging Face folders: what hf_folder_files writes, load_hf_folder reads back as the
// same model (packed ternary codes and scales, rotary rows permuted both ways, table and
// BPE tokenizers, shards); the other BitNet scale convention; and the reader's errors on
// damaged safetensors, configs, indexes and tokenizers, each naming the file and field.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "frontend/hf_folder.h"
#include "frontend/safetensors.h"
#include "support/diagnostics.h"
#include "tests/tools/random_model.h"
#include "tests/unit/model_equality.h"

namespace bitgpt {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class HfFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("bitgpt_hf_" + std::to_string(getpid()) + "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& name, const std::string& bytes) const { std::ofstream(dir_ / name, std::ios::binary) << bytes; }
  std::string read(const std::string& name) const {
    std::ifstream in(dir_ / name, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  void write_model(const Model& m) const {
    for (const auto& [name, bytes] : hf_folder_files(m)) write(name, bytes);
  }
  Model load() const { return load_hf_folder(dir_.string()); }
  // The error loading gives, which must name `file` and contain `what`.
  void expect_error(const std::string& file, const std::string& what) const {
    try {
      load();
      ADD_FAILURE() << "no error; expected " << what;
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(file), std::string::npos) << msg;
      EXPECT_NE(msg.find(what), std::string::npos) << msg;
    }
  }
  void edit_json(const std::string& name, const std::function<void(json&)>& f) const {
    json j = json::parse(read(name));
    f(j);
    write(name, j.dump());
  }
  // model.safetensors with its header replaced (the data kept).
  void edit_header(const std::function<void(json&)>& f) const {
    const std::string bytes = read("model.safetensors");
    uint64_t n = 0;
    std::memcpy(&n, bytes.data(), 8);
    json h = json::parse(bytes.substr(8, n));
    f(h);
    std::string text = h.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    std::string out(8, '\0');
    const uint64_t len = text.size();
    std::memcpy(out.data(), &len, 8);
    write("model.safetensors", out + text + bytes.substr(8 + n));
  }

  fs::path dir_;
};

RandomModelSpec bitnet_spec(const std::string& tokenizer) {
  RandomModelSpec s = small_spec("hf_model");
  s.arch.head_dim = 8;
  s.arch.n_heads = 4;  // q_dim = d_model
  s.arch.vocab_size = 320;
  s.tokenizer = tokenizer;
  return s;
}

TEST_F(HfFolder, BitnetRoundTripKeepsCodesScalesAndTheTable) {
  const Model m = random_model(bitnet_spec("table"));
  write_model(m);
  EXPECT_TRUE(looks_like_hf_folder(dir_.string()));
  EXPECT_TRUE(looks_like_hf_folder((dir_ / "config.json").string()));
  const Model back = load();
  EXPECT_EQ(back.tokenizer.kind, TokenizerKind::Table);
  expect_same_weights(m, back);
}

TEST_F(HfFolder, BpeTokenizerKeepsPiecesAndTheOrderOfItsMerges) {
  const Model m = random_model(bitnet_spec("bpe"));
  write_model(m);
  const Model back = load();
  EXPECT_EQ(back.tokenizer.kind, TokenizerKind::Bpe);
  EXPECT_EQ(m.tokenizer.byte_fallback, back.tokenizer.byte_fallback);
  expect_same_weights(m, back);
  // merges come back ranked as the scores ordered them
  const float unmerged = back.tokenizer.scores[0];  // <unk>: made by no merge
  for (size_t i = 0; i < m.tokenizer.pieces.size(); ++i) {
    for (size_t j = 0; j < m.tokenizer.pieces.size(); ++j) {
      if (back.tokenizer.scores[i] > unmerged && back.tokenizer.scores[j] > unmerged && m.tokenizer.scores[i] > m.tokenizer.scores[j]) {
        ASSERT_GT(back.tokenizer.scores[i], back.tokenizer.scores[j]) << i << " " << j;
      }
    }
  }
}

TEST_F(HfFolder, FloatLlamaStaysFloat) {
  RandomModelSpec s = bitnet_spec("bpe");
  s.matrix_dtype = WeightDType::F32;
  s.arch.sub_norm = false;
  const Model m = random_model(s);
  write_model(m);
  EXPECT_NE(read("config.json").find("LlamaForCausalLM"), std::string::npos);
  expect_same_weights(m, load());
}

TEST_F(HfFolder, BitlinearDividesByTheScale) {
  const Model m = random_model(bitnet_spec("table"));
  write_model(m);
  edit_json("config.json", [](json& c) { c["quantization_config"]["linear_class"] = "bitlinear"; });
  const Model back = load();
  const float s = m.tensor("layers.0.attn.wq").scales[0];
  EXPECT_EQ(back.tensor("layers.0.attn.wq").scales[0], static_cast<float>(1.0 / s));
}

TEST_F(HfFolder, LatentWeightsAreTernarisedByAbsmean) {
  RandomModelSpec s = bitnet_spec("table");
  s.matrix_dtype = WeightDType::F32;
  s.arch.sub_norm = false;
  const Model m = random_model(s);
  write_model(m);  // a Llama folder of floats ...
  edit_json("config.json", [](json& c) {  // ... that says it is BitNet, latent
    c["architectures"] = {"BitNetForCausalLM"};
    c["quantization_config"] = {{"quant_method", "bitnet"}, {"linear_class", "autobitlinear"}, {"quantization_mode", "online"}};
  });
  const Model back = load();
  const Tensor& w = back.tensor("layers.1.ffn.w2");
  EXPECT_EQ(w.dtype, WeightDType::Ternary);
  double sum = 0;
  for (float v : m.tensor("layers.1.ffn.w2").values) sum += std::fabs(v);
  EXPECT_FLOAT_EQ(w.scales[0], static_cast<float>(sum / static_cast<double>(w.elements())));
}

TEST_F(HfFolder, ShardsListedByTheIndex) {
  const Model m = random_model(bitnet_spec("table"));
  write_model(m);
  // split model.safetensors into two shards
  SafetensorsFile whole((dir_ / "model.safetensors").string());
  std::vector<SafeTensorData> parts[2];
  json map;
  int k = 0;
  for (const auto& [name, t] : whole.tensors()) {
    parts[k % 2].push_back({name, t.dtype, t.shape, std::string(reinterpret_cast<const char*>(t.data), t.bytes)});
    map[name] = k % 2 ? "b.safetensors" : "a.safetensors";
    ++k;
  }
  write("a.safetensors", safetensors_bytes(parts[0]));
  write("b.safetensors", safetensors_bytes(parts[1]));
  fs::remove(dir_ / "model.safetensors");
  write("model.safetensors.index.json", json{{"metadata", json::object()}, {"weight_map", map}}.dump());
  expect_same_weights(m, load());
  map[map.begin().key()] = "../a.safetensors";
  write("model.safetensors.index.json", json{{"weight_map", map}}.dump());
  expect_error("model.safetensors.index.json", "is not a file name in the folder");
  map[map.begin().key()] = "b.safetensors";
  write("model.safetensors.index.json", json{{"weight_map", map}}.dump());
  expect_error("model.safetensors.index.json", "which holds no tensor");
  fs::remove(dir_ / "model.safetensors.index.json");
  expect_error(dir_.string(), "no model.safetensors");
}

TEST_F(HfFolder, DamagedSafetensorsAreNamed) {
  const Model m = random_model(bitnet_spec("table"));
  write_model(m);
  const std::string good = read("model.safetensors");
  write("model.safetensors", good.substr(0, 5));
  expect_error("model.safetensors", "too short for the 8-byte header length");
  write("model.safetensors", good.substr(0, good.size() - 1));
  expect_error("model.safetensors", "not a byte range inside");
  std::string big = good;
  big[7] = '\x7f';
  write("model.safetensors", big);
  expect_error("model.safetensors", "runs past the end of the file");
  std::string broken = good;
  broken[8] = '[';
  write("model.safetensors", broken);
  expect_error("model.safetensors", "not valid JSON");
  auto with = [&](const std::function<void(json&)>& f) {
    write("model.safetensors", good);
    edit_header(f);
  };
  with([](json& h) { h["model.norm.weight"]["dtype"] = "Q4"; });
  expect_error("model.safetensors", "\"Q4\" is not a safetensors dtype");
  with([](json& h) { h["model.norm.weight"]["shape"] = {uint64_t{1} << 30, uint64_t{1} << 30}; });
  expect_error("model.safetensors", "more than 2^40 elements");
  with([](json& h) { h["model.norm.weight"]["data_offsets"] = {0, 4}; });
  expect_error("tensor model.norm.weight.data_offsets", "holds 4 bytes");
  with([](json& h) { h["model.norm.weight"]["data_offsets"] = h["model.embed_tokens.weight"]["data_offsets"]; h["model.norm.weight"]["shape"] = h["model.embed_tokens.weight"]["shape"]; });
  expect_error("model.safetensors", "two tensors overlap");
  with([](json& h) { h.erase("model.layers.1.mlp.up_proj.weight"); });
  expect_error("model.safetensors", "tensor model.layers.1.mlp.up_proj.weight: missing");
  with([](json& h) { h.erase("model.layers.0.self_attn.q_proj.weight_scale"); });
  expect_error("model.safetensors", "needs its weight_scale");
  // a duplicate name: written by hand, since a JSON object cannot hold one
  std::string text = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string dup(8, '\0');
  const uint64_t len = text.size();
  std::memcpy(dup.data(), &len, 8);
  write("model.safetensors", dup + text + std::string(8, '\0'));
  expect_error("model.safetensors", "tensor a: appears twice");
}

TEST_F(HfFolder, PackedFieldThreeIsNotTernary) {
  const Model m = random_model(bitnet_spec("table"));
  write_model(m);
  std::string bytes = read("model.safetensors");
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  const json h = json::parse(bytes.substr(8, n));
  ASSERT_EQ(h["model.layers.0.mlp.down_proj.weight"]["dtype"], "U8");
  bytes[8 + n + h["model.layers.0.mlp.down_proj.weight"]["data_offsets"][0].get<size_t>()] = '\x03';
  write("model.safetensors", bytes);
  expect_error("tensor model.layers.0.mlp.down_proj.weight", "not a ternary code");
}

TEST_F(HfFolder, ConfigAndTokenizerErrorsNameTheField) {
  const Model m = random_model(bitnet_spec("table"));
  write_model(m);
  const std::string config = read("config.json"), tokenizer = read("tokenizer.json");
  auto config_with = [&](const std::function<void(json&)>& f) {
    write("config.json", config);
    write("tokenizer.json", tokenizer);
    edit_json("config.json", f);
  };
  config_with([](json& c) { c["architectures"] = {"MistralForCausalLM"}; });
  expect_error("config.json: architectures", "\"MistralForCausalLM\" is not supported");
  config_with([](json& c) { c["hidden_act"] = "relu2"; });
  expect_error("config.json: hidden_act", "only \"silu\"");
  config_with([](json& c) { c["num_key_value_heads"] = 3; });
  expect_error("config.json: num_key_value_heads", "does not divide");
  config_with([](json& c) { c["hidden_size"] = "32"; });
  expect_error("config.json: hidden_size", "expected an integer");
  config_with([](json& c) { c["quantization_config"]["quant_method"] = "gptq"; });
  expect_error("config.json: quantization_config.quant_method", "\"gptq\" is not supported");
  config_with([](json& c) { c["rope_scaling"] = {{"type", "linear"}}; });
  expect_error("config.json: rope_scaling", "only plain RoPE");
  config_with([](json& c) { c["vocab_size"] = 321; });
  expect_error("tensor model.embed_tokens.weight", "expected [321, 32]");
  write("config.json", config);
  edit_json("tokenizer.json", [](json& t) { t["model"]["type"] = "WordPiece"; });
  expect_error("tokenizer.json: model.type", "\"WordPiece\" is not supported");
  write("tokenizer.json", tokenizer);
  edit_json("tokenizer.json", [](json& t) { t["model"]["vocab"]["zzz"] = 5; });
  expect_error("tokenizer.json: model.vocab.zzz", "is also the id of");
  write("tokenizer.json", tokenizer);
  edit_json("config.json", [](json& c) { c.erase("bitgptc_tokenizer"); });
  edit_json("tokenizer.json", [](json& t) {
    t["model"]["byte_fallback"] = false;
    t["pre_tokenizer"] = {{"type", "ByteLevel"}};
  });
  expect_error("tokenizer.json: pre_tokenizer", "ByteLevel");
  fs::remove(dir_ / "tokenizer.json");
  write("config.json", config);
  expect_error("tokenizer.json", "missing");
  write("config.json", "{\"architectures\": [\"LlamaForCausalLM\"],\n \"hidden_size\": }");
  expect_error("config.json: line 2 column", "not valid JSON");
}

TEST_F(HfFolder, ReviewFindingsStayFixed) {
  const Model m = random_model(bitnet_spec("table"));
  write_model(m);
  const std::string config = read("config.json"), tokenizer = read("tokenizer.json"), weights = read("model.safetensors");
  // a decoder nested past any real tokenizer's depth: refused, not recursed into
  edit_json("config.json", [](json& c) { c.erase("bitgptc_tokenizer"); });
  std::string deep = "1";
  for (int i = 0; i < 100; ++i) deep = "[" + deep + "]";
  json tok = json::parse(tokenizer);
  tok["model"]["byte_fallback"] = false;
  write("tokenizer.json", tok.dump().substr(0, tok.dump().size() - 1) + ",\"decoder\":" + deep + "}");
  expect_error("tokenizer.json: decoder", "nested deeper than 32 levels");
  write("config.json", config);
  write("tokenizer.json", tokenizer);
  // bitlinear: a weight_scale whose inverse is not a finite float32
  edit_json("config.json", [](json& c) { c["quantization_config"]["linear_class"] = "bitlinear"; });
  SafetensorsFile f((dir_ / "model.safetensors").string());
  std::vector<SafeTensorData> tensors;
  for (const auto& [name, st] : f.tensors()) {
    SafeTensorData d{name, st.dtype, st.shape, std::string(reinterpret_cast<const char*>(st.data), st.bytes)};
    if (name == "model.layers.0.mlp.up_proj.weight_scale") {
      const float tiny = 1e-40f;
      std::memcpy(d.bytes.data(), &tiny, 4);
    }
    tensors.push_back(d);
  }
  write("model.safetensors", safetensors_bytes(tensors));
  expect_error("tensor model.layers.0.mlp.up_proj.weight_scale", "a finite scale >= 0 is expected");
  // autobitlinear: a scale of 0 is an all-zero matrix, and reads
  write("config.json", config);
  for (SafeTensorData& d : tensors)
    if (d.name == "model.layers.0.mlp.up_proj.weight_scale") d.bytes.assign(4, '\0');
  write("model.safetensors", safetensors_bytes(tensors));
  EXPECT_EQ(load().tensor("layers.0.ffn.w3").scales[0], 0.0f);
  // F64 beyond float32's range
  for (SafeTensorData& d : tensors)
    if (d.name == "model.norm.weight") {
      std::vector<double> big(d.bytes.size() / 4, 1e300);
      d.dtype = "F64";
      d.bytes.assign(reinterpret_cast<const char*>(big.data()), big.size() * 8);
    }
  write("model.safetensors", safetensors_bytes(tensors));
  expect_error("tensor model.norm.weight", "is not a finite float32");
  write("model.safetensors", weights);
}

TEST_F(HfFolder, TokensNoMergeMakesNeverMerge) {
  const Model m = random_model(bitnet_spec("bpe"));
  write_model(m);
  edit_json("tokenizer.json", [](json& t) { t["model"]["merges"] = json::array(); });
  const Model back = load();
  for (size_t i = 0; i < m.tokenizer.pieces.size(); ++i) EXPECT_EQ(back.tokenizer.scores[i], kNeverMerges) << i;
}

TEST_F(HfFolder, WriterRefusesWhatTheLayoutCannotHold) {
  RandomModelSpec s = bitnet_spec("table");
  s.per_row = true;
  try {
    hf_folder_files(random_model(s));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("per-row scales"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bitgpt
