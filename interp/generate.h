// Text generation over an Engine: feed BOS and the prompt, then n times choose a token,
// print it and feed it. The emitted demo main does exactly the same steps.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "interp/engine.h"
#include "ir/model.h"

namespace bitgpt {

struct GenerateOptions {
  std::string prompt;
  int64_t tokens = 64;
  int32_t temperature_q16 = 0;
  uint64_t seed = 0;
};

struct GenerateResult {
  std::string text;  // the prompt followed by the generated text
  std::vector<int32_t> generated;
  uint64_t checksum = 0;
  bool context_full = false;  // stopped early: learned positions ran out
};

// The prompt as tokens; throws Error naming the byte offset of text no token covers.
std::vector<int32_t> encode_prompt(const Tokenizer& t, const std::string& prompt);

// The first max_tokens tokens of a long text. A BPE vocabulary encodes piece by piece
// (merging is quadratic in the length it merges over): pieces of about a kilobyte, cut
// before a space, so time per byte is bounded and encoding stops once max_tokens are
// there; a token never spans a cut, which for SentencePiece vocabularies (pieces begin
// with their space) is what encoding the whole text gives. A table tokenizer encodes the
// whole text greedily in one linear pass. Errors name `what` ("--text FILE") and the offset.
std::vector<int32_t> encode_text(const Tokenizer& t, const std::string& text, const std::string& what, int64_t max_tokens);

GenerateResult generate(Engine& engine, const Tokenizer& t, const GenerateOptions& o);

// Parses a temperature ("0.8") exactly as the emitted demo does; throws Error if malformed.
int32_t parse_temperature(const std::string& text);

}  // namespace bitgpt
