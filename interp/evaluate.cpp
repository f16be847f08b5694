#include "interp/evaluate.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "interp/generate.h"
#include "interp/interpreter.h"
#include "support/diagnostics.h"

namespace bitgpt {

namespace {

// -log softmax(logits)[target], in double: a measurement on the host, not the datapath.
double nats_of(const std::vector<int32_t>& logits, int32_t target) {
  const double scale = 1.0 / 65536.0;
  const int32_t mx = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  // in double: the difference of two int32 logits need not fit an int32
  for (int32_t l : logits) sum += std::exp((static_cast<double>(l) - mx) * scale);
  return std::log(sum) - (static_cast<double>(logits[static_cast<size_t>(target)]) - mx) * scale;
}

}  // namespace

LossResult evaluate_loss(const CompiledModel& program, const std::string& text, const std::string& what, int64_t segment, int64_t max_tokens,
                         const std::function<void(int64_t done, int64_t total)>& progress, const std::vector<int32_t>& predictions) {
  const ir::Graph& g = program.graph;
  LossResult r;
  r.ids = encode_text(g.tokenizer, text, what, max_tokens);
  const std::vector<int32_t>& ids = r.ids;
  if (!predictions.empty() && predictions.size() != ids.size())
    throw Error(fmt::format("--predictions: {} predictions for the {} tokens the text has", predictions.size(), ids.size()));
  Interpreter interp(program);
  for (size_t begin = 0; begin < ids.size(); begin += static_cast<size_t>(segment)) {
    if (progress) progress(static_cast<int64_t>(begin), static_cast<int64_t>(ids.size()));
    const size_t end = std::min(ids.size(), begin + static_cast<size_t>(segment));
    interp.reset(0);
    interp.feed(static_cast<int32_t>(g.tokenizer.bos));
    for (size_t i = begin; i < end; ++i) {
      const int32_t chosen = interp.next(0);
      if (!predictions.empty()) r.agreed += chosen == predictions[i] ? 1 : 0;
      r.nats += nats_of(interp.last_logits(), ids[i]);
      r.tokens += 1;
      r.bytes += static_cast<int64_t>(g.tokenizer.pieces[static_cast<size_t>(ids[i])].size());
      if (i + 1 < end) interp.feed(ids[i]);
    }
  }
  return r;
}

AgreementResult evaluate_agreement(const CompiledModel& program, const std::vector<int32_t>& ids, const std::vector<int32_t>& predictions) {
  Interpreter interp(program);
  AgreementResult r;
  interp.reset(0);
  for (size_t i = 0; i + 1 < ids.size(); ++i) {
    if (predictions.size() && i >= predictions.size()) break;
    if (interp.feed(ids[i]) != kFeedOk) break;
    r.compared += 1;
    r.agreed += interp.next(0) == (predictions.empty() ? ids[i + 1] : predictions[i]) ? 1 : 0;
  }
  return r;
}

std::vector<int32_t> read_token_ids(const std::string& path, int64_t vocab_size) {
  std::ifstream in(path);
  if (!in) fail(path, "", "cannot open the token file");
  std::vector<int32_t> ids;
  std::string word;
  while (in >> word) {
    size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(word, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != word.size() || v < 0 || v >= vocab_size)
      fail(path, fmt::format("token {}", ids.size()), fmt::format("'{}' is not a token id in [0, {})", word, vocab_size));
    ids.push_back(static_cast<int32_t>(v));
  }
  if (ids.size() < 2) fail(path, "", "needs a start token and at least one more id");
  return ids;
}

}  // namespace bitgpt
