#include "interp/generate.h"

#include <fmt/format.h>

#include "ir/vocab.h"
#include "support/diagnostics.h"
#include "runtime/bitgpt_numerics.h"

namespace bitgpt {

namespace {

// Encodes text[begin, end) and appends the tokens; `what` and the offset name a byte no
// token covers.
void encode_piece(const bg_vocab& v, const std::string& text, size_t begin, size_t end, const std::string& what, std::vector<int32_t>& ids) {
  std::vector<int32_t> piece(end - begin + 1);  // BPE works in one slot per byte, plus the dummy prefix
  int32_t bad = 0;
  const int32_t n = bg_encode(&v, text.data() + begin, static_cast<int32_t>(end - begin), piece.data(), static_cast<int32_t>(piece.size()), &bad);
  if (n < 0)
    throw Error(fmt::format("{}: byte offset {}: no token of the model's vocabulary covers byte 0x{:02x}", what, begin + static_cast<size_t>(bad),
                            static_cast<unsigned char>(text[begin + static_cast<size_t>(bad)])));
  ids.insert(ids.end(), piece.begin(), piece.begin() + n);
}

std::vector<int32_t> encode_with(const bg_vocab& v, const std::string& prompt) {
  std::vector<int32_t> ids;
  encode_piece(v, prompt, 0, prompt.size(), "--prompt", ids);
  return ids;
}

// Where a long text is cut for encoding: before a space at least kPieceBytes in (a
// SentencePiece token does not span a word boundary: pieces start with their space), or
// at a UTF-8 character boundary kMaxPieceBytes in when there is no space.
constexpr size_t kPieceBytes = 1024, kMaxPieceBytes = 4096;

size_t piece_end(const Tokenizer& t, const std::string& text, size_t begin) {
  // A table tokenizer encodes greedily in one pass (linear), and its strings may span a
  // space: it takes the whole text.
  if (t.kind != TokenizerKind::Bpe || text.size() - begin <= kMaxPieceBytes) return text.size();
  const size_t space = text.find(' ', begin + kPieceBytes);
  if (space != std::string::npos && space < begin + kMaxPieceBytes) return space;
  size_t end = begin + kMaxPieceBytes;
  while (end > begin + 1 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return end;
}

}  // namespace

std::vector<int32_t> encode_prompt(const Tokenizer& t, const std::string& prompt) {
  const LoweredVocab lv = lower_vocab(t);
  return encode_with(lv.view(), prompt);
}

std::vector<int32_t> encode_text(const Tokenizer& t, const std::string& text, const std::string& what, int64_t max_tokens) {
  const LoweredVocab lv = lower_vocab(t);
  bg_vocab v = lv.view();
  std::vector<int32_t> ids;
  for (size_t begin = 0; begin < text.size() && static_cast<int64_t>(ids.size()) < max_tokens;) {
    const size_t end = piece_end(t, text, begin);
    encode_piece(v, text, begin, end, what, ids);
    v.dummy_prefix = -1;  // the dummy prefix goes before the text, not before every piece
    begin = end;
  }
  if (static_cast<int64_t>(ids.size()) > max_tokens) ids.resize(static_cast<size_t>(max_tokens));
  return ids;
}

GenerateResult generate(Engine& engine, const Tokenizer& t, const GenerateOptions& o) {
  GenerateResult r;
  const LoweredVocab lv = lower_vocab(t);
  const bg_vocab v = lv.view();
  std::vector<int32_t> input = encode_with(v, o.prompt);
  input.insert(input.begin(), static_cast<int32_t>(t.bos));
  engine.reset(o.seed);
  r.text = o.prompt;
  for (int32_t tok : input) {
    if (engine.feed(tok) == kFeedContextFull) { r.context_full = true; break; }
  }
  int32_t prev = input.back();
  for (int64_t i = 0; i < o.tokens && !r.context_full; ++i) {
    const int32_t next = engine.next(o.temperature_q16);
    int32_t len = 0;
    const char* piece = bg_decode(&v, prev, next, &len);
    r.generated.push_back(next);
    r.text.append(piece, static_cast<size_t>(len));
    prev = next;
    if (i + 1 < o.tokens && engine.feed(next) == kFeedContextFull) r.context_full = true;
  }
  r.checksum = engine.checksum();
  return r;
}

int32_t parse_temperature(const std::string& text) {
  const int32_t q = bg_parse_q16(text.c_str());
  if (q < 0) throw Error("--temperature: '" + text + "' is not a non-negative decimal number (e.g. 0.8)");
  return q;
}

}  // namespace bitgpt
