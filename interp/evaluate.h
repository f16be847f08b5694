// Measuring what compiling costs in quality, with the reference interpreter under a
// compilation's plan (window, KV precision): the teacher-forced loss on a text, and the
// top-1 agreement with a reference token sequence.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "passes/pipeline.h"

namespace bitgpt {

struct LossResult {
  int64_t tokens = 0, bytes = 0;
  double nats = 0;  // summed over tokens
  std::vector<int32_t> ids;  // the text's tokens, as scored
  int64_t agreed = 0;        // with predictions: positions whose greedy choice equals them
  double nats_per_token() const { return tokens ? nats / static_cast<double>(tokens) : 0; }
  double bits_per_char() const { return bytes ? nats / std::log(2.0) / static_cast<double>(bytes) : 0; }
};

// Teacher-forced loss on `text` (named `what` in errors), in segments of at most `segment`
// tokens each started afresh with BOS (the model's training context), over at most
// max_tokens tokens. `progress`, if given, hears (tokens scored, tokens in all) before
// each segment. predictions, if given: another runtime's greedy choice at each scored
// position under the same protocol, to count agreement with.
LossResult evaluate_loss(const CompiledModel& program, const std::string& text, const std::string& what, int64_t segment, int64_t max_tokens,
                         const std::function<void(int64_t done, int64_t total)>& progress = {}, const std::vector<int32_t>& predictions = {});

struct AgreementResult {
  int64_t compared = 0, agreed = 0;
  double fraction() const { return compared ? static_cast<double>(agreed) / static_cast<double>(compared) : 0; }
};

// ids[0] is the start token; predicts greedily after feeding ids[0..i] and compares with
// ids[i+1], or with predictions[i] when given (another runtime's predictions on the same
// prefixes).
AgreementResult evaluate_agreement(const CompiledModel& program, const std::vector<int32_t>& ids, const std::vector<int32_t>& predictions = {});

// Reads whitespace-separated token ids; throws Error naming the file and position.
std::vector<int32_t> read_token_ids(const std::string& path, int64_t vocab_size);

}  // namespace bitgpt
