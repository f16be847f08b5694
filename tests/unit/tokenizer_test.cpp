// Encoding and decoding (runtime/bitgpt_tokenizer.h through compiler/vocab.h): greedy
// longest match, and sentencepiece BPE as llama2.c runs it, rule by rule on a small
// vocabulary, then against ids llama2.c's own encoder produced for the shared tok512.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "ir/vocab.h"
#include "frontend/llama2c.h"

namespace bitgpt {
namespace {

std::vector<int32_t> encode(const LoweredVocab& lv, const std::string& text, int32_t max, int32_t* status = nullptr) {
  const bg_vocab v = lv.view();
  std::vector<int32_t> out(static_cast<size_t>(std::max(max, 1)));
  int32_t bad = -1;
  const int32_t n = bg_encode(&v, text.data(), static_cast<int32_t>(text.size()), out.data(), max, &bad);
  if (status) *status = n < 0 ? n : 0;
  if (n < 0) return {n, bad};
  out.resize(static_cast<size_t>(n));
  return out;
}

TEST(Tokenizer, GreedyLongestMatch) {
  Tokenizer t;
  t.pieces = {"a", "b", "ab", "c"};
  const LoweredVocab lv = lower_vocab(t);
  EXPECT_EQ(encode(lv, "abcab", 8), (std::vector<int32_t>{2, 3, 2}));
  EXPECT_EQ(encode(lv, "abx", 8), (std::vector<int32_t>{BG_TEXT_UNCOVERED, 2}));
  EXPECT_EQ(encode(lv, "abab", 1), (std::vector<int32_t>{BG_TEXT_TOO_LONG, -1}));
}

// A sentencepiece-shaped vocabulary: <unk> <s> </s>, 256 byte tokens, then pieces.
class Bpe : public ::testing::Test {
 protected:
  int32_t add(const std::string& piece, float score) {
    t_.pieces.push_back(piece);
    t_.scores.push_back(score);
    t_.byte_fallback.push_back(false);
    return static_cast<int32_t>(t_.pieces.size()) - 1;
  }
  void SetUp() override {
    t_.kind = TokenizerKind::Bpe;
    t_.bos = 1;
    for (int i = 0; i < 3; ++i) add("", 0);
    for (int b = 0; b < 256; ++b) {
      add(std::string(1, static_cast<char>(b)), 0);
      t_.byte_fallback.back() = true;
    }
    space_ = add(" ", -1);
    a_ = add("a", -2);
    b_ = add("b", -3);
    c_ = add("c", -4);
    ab_ = add("ab", 5);
    bc_ = add("bc", 10);
    sa_ = add(" a", 1);
    aa_ = add("aa", 3);
    xa_ = add("xa", 20);          // "x" has no token of its own: its byte token must not merge
    never_ = add("cc", -2e10f);   // at or below llama2.c's starting best score: never merged
    e_acute_ = add("\xC3\xA9", -5);
  }
  Tokenizer t_;
  int32_t space_, a_, b_, c_, ab_, bc_, sa_, aa_, xa_, never_, e_acute_;
};

TEST_F(Bpe, HighestScoreMergesFirst) {
  // "bc" (10) beats "ab" (5); then " a" (1) joins the prefix space and the a.
  EXPECT_EQ(encode(lower_vocab(t_), "abc", 8), (std::vector<int32_t>{sa_, bc_}));
}

TEST_F(Bpe, LeftmostPairWinsATie) {
  EXPECT_EQ(encode(lower_vocab(t_), "aaa", 8), (std::vector<int32_t>{space_, aa_, a_}));
}

TEST_F(Bpe, ByteFallbackTokensNeverMerge) {
  EXPECT_EQ(encode(lower_vocab(t_), "xa", 8), (std::vector<int32_t>{space_, 'x' + 3, a_}));
  // A code point the vocabulary has is one token; one it lacks is one token per byte.
  EXPECT_EQ(encode(lower_vocab(t_), "\xC3\xA9\xE2\x82\xAC", 8), (std::vector<int32_t>{space_, e_acute_, 0xE2 + 3, 0x82 + 3, 0xAC + 3}));
}

TEST_F(Bpe, ScoresAtOrBelowTheStartingBestNeverMerge) {
  EXPECT_EQ(encode(lower_vocab(t_), "cc", 8), (std::vector<int32_t>{space_, c_, c_}));
}

TEST_F(Bpe, EmptyTextHasNoDummyPrefix) {
  EXPECT_TRUE(encode(lower_vocab(t_), "", 8).empty());
}

TEST_F(Bpe, NeedsOneSlotPerByteWhileItMerges) {
  // "abc" ends as 2 tokens but starts as 4 (the prefix and three code points).
  int32_t status = 0;
  encode(lower_vocab(t_), "abc", 3, &status);
  EXPECT_EQ(status, BG_TEXT_TOO_LONG);
  EXPECT_EQ(encode(lower_vocab(t_), "abc", 4).size(), 2u);
}

TEST_F(Bpe, MissingByteTokenIsAnError) {
  t_.byte_fallback[3 + 0xFF] = false;  // byte 0xFF loses its fallback token
  t_.pieces[3 + 0xFF] = "";
  EXPECT_EQ(encode(lower_vocab(t_), "a\xFF", 8), (std::vector<int32_t>{BG_TEXT_UNCOVERED, 1}));
}

TEST_F(Bpe, DecodeDropsTheDummySpaceAfterBosOnly) {
  const LoweredVocab lv = lower_vocab(t_);
  const bg_vocab v = lv.view();
  int32_t len = 0;
  const char* s = bg_decode(&v, 1, sa_, &len);
  EXPECT_EQ(std::string(s, static_cast<size_t>(len)), "a");
  s = bg_decode(&v, a_, sa_, &len);
  EXPECT_EQ(std::string(s, static_cast<size_t>(len)), " a");
}

// llama2.c's encode() (run.c) on tok512, with BOS, printed once by hand.
TEST(BpeTok512, MatchesLlama2cEncoder) {
  const std::filesystem::path tok = std::filesystem::path(BITGPT_SOURCE_DIR) / "../shared/data/checkpoints/stories260K/tok512.bin";
  if (!std::filesystem::exists(tok)) GTEST_SKIP() << tok << " not found: ../shared holds the real tokenizer";
  const LoweredVocab lv = lower_vocab(load_llama2c_tokenizer(tok.string(), 512));
  const struct { std::string text; std::vector<int32_t> ids; } cases[] = {
      {"Once upon a time", {403, 407, 261, 378}},
      {"Lily's mom said, \"Yes!\"", {317, 439, 419, 357, 336, 432, 313, 452, 406, 443, 436}},
      {"h\xC3\xA9llo w\xC3\xB6rld \xF0\x9F\x98\x80 ok", {270, 485, 306, 414, 263, 198, 185, 420, 341, 410, 243, 162, 155, 131, 334, 433}},
      {"  two  spaces", {410, 410, 259, 424, 414, 410, 262, 427, 412, 331, 419}},
  };
  for (const auto& c : cases) EXPECT_EQ(encode(lv, c.text, static_cast<int32_t>(c.text.size()) + 1), c.ids) << c.text;
}

}  // namespace
}  // namespace bitgpt
