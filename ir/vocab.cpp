#include "ir/vocab.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace bitgpt {

namespace {

void lower_bpe(const Tokenizer& t, LoweredVocab& v) {
  const int64_t n = static_cast<int64_t>(t.pieces.size());
  v.bpe = true;
  v.bos = static_cast<int32_t>(t.bos);
  v.byte_token.assign(256, static_cast<uint16_t>(BG_NO_TOKEN));
  std::vector<uint16_t> candidates;
  for (int64_t i = n - 1; i >= 0; --i) {  // downwards, so the lowest id of a byte wins
    const std::string& p = t.pieces[static_cast<size_t>(i)];
    if (t.byte_fallback[static_cast<size_t>(i)]) v.byte_token[static_cast<unsigned char>(p[0])] = static_cast<uint16_t>(i);
  }
  for (int64_t i = 0; i < n; ++i)
    if (!t.byte_fallback[static_cast<size_t>(i)] && !t.pieces[static_cast<size_t>(i)].empty()) candidates.push_back(static_cast<uint16_t>(i));
  // By text, bytewise (std::string compares as unsigned char); of equal texts the lowest id stays.
  std::stable_sort(candidates.begin(), candidates.end(), [&](uint16_t a, uint16_t b) { return t.pieces[a] < t.pieces[b]; });
  for (uint16_t id : candidates)
    if (v.sorted.empty() || t.pieces[v.sorted.back()] != t.pieces[id]) v.sorted.push_back(id);

  // Ranks: equal scores rank equal, so "leftmost among equals" matches the float rule.
  std::vector<float> distinct;
  for (uint16_t id : v.sorted)
    if (t.scores[id] > kNeverMerges) distinct.push_back(t.scores[id]);
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  v.merge_rank.assign(static_cast<size_t>(n), 0);
  for (uint16_t id : v.sorted)
    if (t.scores[id] > kNeverMerges)
      v.merge_rank[id] = static_cast<uint16_t>(1 + (std::lower_bound(distinct.begin(), distinct.end(), t.scores[id]) - distinct.begin()));

  const auto space = std::lower_bound(v.sorted.begin(), v.sorted.end(), std::string(" "),
                                      [&](uint16_t id, const std::string& s) { return t.pieces[id] < s; });
  if (space != v.sorted.end() && t.pieces[*space] == " ") v.dummy_prefix = *space;
}

}  // namespace

bg_vocab LoweredVocab::view() const {
  bg_vocab v{bytes.data(), offsets.data(), static_cast<int32_t>(offsets.size()) - 1, nullptr, 0, nullptr, nullptr, -1, bos};
  if (bpe) {
    v.sorted = sorted.data();
    v.sorted_count = static_cast<int32_t>(sorted.size());
    v.merge_rank = merge_rank.data();
    v.byte_token = byte_token.data();
    v.dummy_prefix = dummy_prefix;
  }
  return v;
}

int64_t LoweredVocab::flash_bytes() const {
  return static_cast<int64_t>(bytes.size() + 4 * offsets.size() + 2 * (sorted.size() + merge_rank.size() + byte_token.size()));
}

LoweredVocab lower_vocab(const Tokenizer& t) {
  LoweredVocab v;
  v.offsets.push_back(0);
  for (const std::string& p : t.pieces) {
    v.bytes.insert(v.bytes.end(), p.begin(), p.end());
    v.offsets.push_back(static_cast<uint32_t>(v.bytes.size()));
  }
  v.bos = static_cast<int32_t>(t.bos);
  if (t.kind == TokenizerKind::Bpe) lower_bpe(t, v);
  return v;
}

}  // namespace bitgpt
