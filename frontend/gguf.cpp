#include "frontend/gguf.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include "frontend/llama_family.h"
#include "frontend/quantize.h"
#include "frontend/rotary_layout.h"
#include "support/byte_reader.h"
#include "support/diagnostics.h"
#include "support/half_float.h"
#include "support/input_files.h"
#include "support/text.h"

namespace bitgpt {

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF"
constexpr int64_t kMaxFileBytes = int64_t{64} << 30;

// ---- the container ----

enum ValueType : uint32_t { U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 };

struct Value {
  uint32_t type = U8;
  int64_t integer = 0;  // every integer type and bool
  double real = 0;      // F32, F64
  std::string text;     // STRING
  uint32_t element_type = U8;
  std::vector<Value> elements;  // ARRAY
  bool is_integer() const { return type <= I32 || type == U64 || type == I64 || type == BOOL; }
};

// ggml tensor types this reader decodes: elements per block and bytes per block.
enum GgmlType : uint32_t { T_F32 = 0, T_F16 = 1, T_Q4_0 = 2, T_Q8_0 = 8, T_Q6_K = 14, T_BF16 = 30, T_TQ1_0 = 34, T_TQ2_0 = 35, T_Q1_0 = 41 };
struct TypeInfo {
  uint32_t type;
  const char* name;
  int64_t block, bytes;
};
constexpr TypeInfo kTypes[] = {{T_F32, "F32", 1, 4},       {T_F16, "F16", 1, 2},      {T_BF16, "BF16", 1, 2}, {T_Q4_0, "Q4_0", 32, 18}, {T_Q8_0, "Q8_0", 32, 34}, {T_Q6_K, "Q6_K", 256, 210},
                               {T_TQ1_0, "TQ1_0", 256, 54}, {T_TQ2_0, "TQ2_0", 256, 66}, {T_Q1_0, "Q1_0", 128, 18}};

struct TensorInfo {
  std::string name;
  std::vector<int64_t> dims;  // ne[0] (fastest) first
  uint32_t type = 0;
  uint64_t offset = 0;
  size_t at = 0;  // byte offset of its info, for messages
  const uint8_t* data = nullptr;
  int64_t elements() const {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    return n;
  }
};

struct GgufFile {
  std::string path;
  std::vector<uint8_t> bytes;
  std::map<std::string, Value> meta;
  std::map<std::string, TensorInfo> tensors;
};

Value read_value(ByteReader& r, uint32_t type, const std::string& key, int depth);

std::string read_string(ByteReader& r, const std::string& what) {
  const uint64_t n = r.u64(what + " (length)");
  if (n > r.size()) fail(r.path(), fmt::format("byte offset {}", r.offset() - 8), fmt::format("{}: length {} is longer than the file", what, n));
  const uint8_t* p = r.bytes(static_cast<size_t>(n), what);
  return std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
}

Value read_value(ByteReader& r, uint32_t type, const std::string& key, int depth) {
  Value v;
  v.type = type;
  const std::string what = "the value of " + key;
  switch (type) {
    case U8: v.integer = r.u8(what); break;
    case I8: v.integer = static_cast<int8_t>(r.u8(what)); break;
    case U16: v.integer = r.u16(what); break;
    case I16: v.integer = static_cast<int16_t>(r.u16(what)); break;
    case U32: v.integer = r.u32(what); break;
    case I32: v.integer = r.i32(what); break;
    case U64: v.integer = static_cast<int64_t>(r.u64(what)); break;
    case I64: v.integer = r.i64(what); break;
    case BOOL: v.integer = r.u8(what) != 0; break;
    case F32: v.real = r.f32(what); break;
    case F64: v.real = r.f64(what); break;
    case STRING: v.text = read_string(r, what); break;
    case ARRAY: {
      const size_t at = r.offset();
      if (depth > 0) fail(r.path(), fmt::format("byte offset {}", at), key + ": arrays of arrays are not supported");
      v.element_type = r.u32(what + " (element type)");
      if (v.element_type > F64 || v.element_type == ARRAY)
        fail(r.path(), fmt::format("byte offset {}", at), fmt::format("{}: array element type {} is not a GGUF scalar type", key, v.element_type));
      const uint64_t n = r.u64(what + " (element count)");
      if (n > r.size() - r.offset()) fail(r.path(), fmt::format("byte offset {}", at + 4), fmt::format("{}: {} elements cannot fit in the file", key, n));
      v.elements.reserve(static_cast<size_t>(n));
      for (uint64_t i = 0; i < n; ++i) v.elements.push_back(read_value(r, v.element_type, fmt::format("{}[{}]", key, i), depth + 1));
      break;
    }
    default: fail(r.path(), fmt::format("byte offset {}", r.offset() - 4), fmt::format("{}: value type {} is not a GGUF type (0..12)", key, type));
  }
  return v;
}

const TypeInfo* type_info(uint32_t t) {
  for (const TypeInfo& i : kTypes)
    if (i.type == t) return &i;
  return nullptr;
}

GgufFile read_gguf(const std::string& path) {
  GgufFile f;
  f.path = path;
  f.bytes = read_input_file(path, "GGUF file", kMaxFileBytes);
  ByteReader r(path, f.bytes);
  // Errors below name the file through this wrapper: ByteReader's own name it already.
  auto error = [&](size_t at, const std::string& msg) { fail(path, fmt::format("byte offset {}", at), msg); };
  if (r.u32("the magic") != kMagic) error(0, "not a GGUF file (the magic is not \"GGUF\")");
  const uint32_t version = r.u32("the version");
  if (version != 2 && version != 3) error(4, fmt::format("GGUF version {} is not supported (2 or 3)", version));
  const uint64_t n_tensors = r.u64("the tensor count"), n_kv = r.u64("the metadata count");
  if (n_tensors > 1000000) error(8, fmt::format("tensor count {} is out of range", n_tensors));
  if (n_kv > 1000000) error(16, fmt::format("metadata count {} is out of range", n_kv));
  for (uint64_t i = 0; i < n_kv; ++i) {
    const std::string key = read_string(r, fmt::format("metadata key {}", i));
    const uint32_t type = r.u32("the type of " + key);
    f.meta[key] = read_value(r, type, key, 0);
  }
  uint64_t alignment = 32;
  if (auto it = f.meta.find("general.alignment"); it != f.meta.end()) {
    if (!it->second.is_integer() || it->second.integer < 1 || it->second.integer > 65536 || (it->second.integer & (it->second.integer - 1)))
      fail(path, "general.alignment", "expected a power of two up to 65536");
    alignment = static_cast<uint64_t>(it->second.integer);
  }
  std::vector<TensorInfo> infos;
  for (uint64_t i = 0; i < n_tensors; ++i) {
    TensorInfo t;
    t.at = r.offset();
    t.name = read_string(r, fmt::format("the name of tensor {}", i));
    const uint32_t n_dims = r.u32("the dimension count of " + t.name);
    if (n_dims < 1 || n_dims > 4) error(r.offset() - 4, fmt::format("tensor {}: {} dimensions (1 to 4 expected)", t.name, n_dims));
    uint64_t elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const uint64_t n = r.u64(fmt::format("dimension {} of {}", d, t.name));
      if (n < 1 || n > (uint64_t{1} << 40) / elements)
        error(r.offset() - 8, fmt::format("tensor {}: dimension {} is {}: more than 2^40 elements in all, or none", t.name, d, n));
      elements *= n;
      t.dims.push_back(static_cast<int64_t>(n));
    }
    t.type = r.u32("the type of " + t.name);
    t.offset = r.u64("the data offset of " + t.name);
    if (t.offset % alignment) error(r.offset() - 8, fmt::format("tensor {}: data offset {} is not a multiple of the alignment {}", t.name, t.offset, alignment));
    infos.push_back(t);
  }
  const uint64_t data_start = (r.offset() + alignment - 1) / alignment * alignment;
  for (TensorInfo& t : infos) {
    const TypeInfo* ti = type_info(t.type);
    if (!ti) continue;  // decoded (and refused) only if the model uses it
    if (t.dims[0] % ti->block)
      error(t.at, fmt::format("tensor {}: {} rows of {} elements are not whole {}-element {} blocks", t.name, t.elements() / t.dims[0], t.dims[0], ti->block, ti->name));
    const uint64_t size = static_cast<uint64_t>(t.elements() / ti->block * ti->bytes);
    // compared without forming data_start + offset, which a hostile offset would wrap
    if (data_start > f.bytes.size() || t.offset > f.bytes.size() - data_start || size > f.bytes.size() - data_start - t.offset)
      error(t.at, fmt::format("tensor {}: its {} bytes at data offset {} run past the end of the file ({} bytes)", t.name, size, t.offset, f.bytes.size()));
    t.data = f.bytes.data() + (data_start + t.offset);
  }
  for (TensorInfo& t : infos) {
    if (f.tensors.count(t.name)) error(t.at, "tensor " + t.name + " appears twice");
    f.tensors[t.name] = t;
  }
  return f;
}

// ---- metadata ----

const Value* find(const GgufFile& f, const std::string& key) {
  const auto it = f.meta.find(key);
  return it == f.meta.end() ? nullptr : &it->second;
}
int64_t integer(const GgufFile& f, const std::string& key, std::optional<int64_t> fallback, int64_t lo, int64_t hi) {
  const Value* v = find(f, key);
  if (!v) {
    if (fallback) return *fallback;
    fail(f.path, key, "missing (an integer is expected)");
  }
  if (!v->is_integer()) fail(f.path, key, "expected an integer");
  if (v->integer < lo || v->integer > hi) fail(f.path, key, fmt::format("{} is out of range [{}, {}]", v->integer, lo, hi));
  return v->integer;
}
double real(const GgufFile& f, const std::string& key, double fallback) {
  const Value* v = find(f, key);
  if (!v) return fallback;
  if (v->type != F32 && v->type != F64) fail(f.path, key, "expected a float");
  return v->real;
}
std::string text(const GgufFile& f, const std::string& key) {
  const Value* v = find(f, key);
  if (!v || v->type != STRING) fail(f.path, key, v ? "expected a string" : "missing (a string is expected)");
  return v->text;
}

// ---- tensors ----

// A tensor decoded: its values, or ternary/binary codes with one scale per block.
struct Decoded {
  std::vector<float> values;
  std::vector<int8_t> codes;
  std::vector<float> block_scales;
  int64_t block = 0;  // elements per scale when codes are set
};

Decoded decode(const GgufFile& f, const TensorInfo& t) {
  const TypeInfo* ti = type_info(t.type);
  if (!ti) fail(f.path, "tensor " + t.name, fmt::format("ggml type {} is not one this reader decodes (F32, F16, BF16, Q4_0, Q8_0, Q6_K, TQ1_0, TQ2_0, Q1_0)", t.type));
  const int64_t n = t.elements(), blocks = n / ti->block;
  const uint8_t* p = t.data;
  Decoded d;
  auto scale = [&](const uint8_t* q, int64_t b) {
    const float s = half_to_float(le16(q));
    if (!std::isfinite(s)) fail(f.path, "tensor " + t.name, fmt::format("block {} has a scale that is not finite", b));
    return s;
  };
  switch (t.type) {
    case T_F32:
      d.values.resize(static_cast<size_t>(n));
      std::memcpy(d.values.data(), p, static_cast<size_t>(4 * n));
      break;
    case T_F16:
    case T_BF16:
      d.values.resize(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) d.values[static_cast<size_t>(i)] = t.type == T_F16 ? half_to_float(le16(p + 2 * i)) : bf16_to_float(le16(p + 2 * i));
      break;
    case T_Q4_0:  // the scale, then 16 bytes: element j in the low nibble of byte j, j + 16 in the high one; value (q - 8) * scale
      d.values.resize(static_cast<size_t>(n));
      for (int64_t b = 0; b < blocks; ++b) {
        const uint8_t* q = p + 18 * b;
        const float s = scale(q, b);
        for (int j = 0; j < 16; ++j) {
          d.values[static_cast<size_t>(32 * b + j)] = s * static_cast<float>((q[2 + j] & 15) - 8);
          d.values[static_cast<size_t>(32 * b + j + 16)] = s * static_cast<float>((q[2 + j] >> 4) - 8);
        }
      }
      break;
    case T_Q8_0:
      d.values.resize(static_cast<size_t>(n));
      for (int64_t b = 0; b < blocks; ++b) {
        const uint8_t* q = p + 34 * b;
        const float s = scale(q, b);
        for (int j = 0; j < 32; ++j) d.values[static_cast<size_t>(32 * b + j)] = s * static_cast<float>(static_cast<int8_t>(q[2 + j]));
      }
      break;
    case T_Q6_K:  // 128 bytes of low nibbles, 64 of high bit pairs, 16 int8 scales (one per 16), the fp16 scale
      d.values.resize(static_cast<size_t>(n));
      for (int64_t b = 0; b < blocks; ++b) {
        const uint8_t* q = p + 210 * b;
        const float s = scale(q + 208, b);
        float* y = d.values.data() + 256 * b;
        for (int half = 0; half < 2; ++half) {  // each 128 elements: low nibbles 64 bytes, high pairs 32, scales 8
          const uint8_t* ql = q + 64 * half;
          const uint8_t* qh = q + 128 + 32 * half;
          const auto* sc = reinterpret_cast<const int8_t*>(q + 192 + 8 * half);
          for (int l = 0; l < 32; ++l)
            for (int k = 0; k < 4; ++k) {  // element l + 32k: nibble k / 2 of byte l + 32 (k % 2), bit pair k of qh[l]
              const int low = (ql[l + 32 * (k % 2)] >> (4 * (k / 2))) & 15, high = (qh[l] >> (2 * k)) & 3;
              y[128 * half + l + 32 * k] = s * static_cast<float>(sc[l / 16 + 2 * k]) * static_cast<float>((low | (high << 4)) - 32);
            }
        }
      }
      break;
    case T_TQ2_0:  // 64 bytes of 2-bit codes (element 32*l + m of a 128-group in bits 2l of byte m), then the scale
    case T_TQ1_0:  // 48 bytes of base-3 quintets, 4 bytes of base-3 quartets, then the scale
    case T_Q1_0:   // the scale, then 16 bytes of sign bits
      d.block = ti->block;
      d.codes.resize(static_cast<size_t>(n));
      d.block_scales.resize(static_cast<size_t>(blocks));
      for (int64_t b = 0; b < blocks; ++b) {
        const uint8_t* q = p + ti->bytes * b;
        int8_t* y = d.codes.data() + ti->block * b;
        if (t.type == T_TQ2_0) {
          d.block_scales[static_cast<size_t>(b)] = scale(q + 64, b);
          for (int j = 0; j < 64; j += 32)
            for (int l = 0; l < 4; ++l)
              for (int m = 0; m < 32; ++m) *y++ = static_cast<int8_t>(((q[j + m] >> (2 * l)) & 3) - 1);
        } else if (t.type == T_TQ1_0) {
          d.block_scales[static_cast<size_t>(b)] = scale(q + 52, b);
          static const uint8_t pow3[6] = {1, 3, 9, 27, 81, 243};
          auto trit = [](uint8_t byte, int k) { return static_cast<int8_t>(((static_cast<uint16_t>(static_cast<uint8_t>(byte * pow3[k])) * 3) >> 8) - 1); };
          for (int k = 0; k < 5; ++k)
            for (int m = 0; m < 32; ++m) *y++ = trit(q[m], k);
          for (int k = 0; k < 5; ++k)
            for (int m = 0; m < 16; ++m) *y++ = trit(q[32 + m], k);
          for (int k = 0; k < 4; ++k)
            for (int m = 0; m < 4; ++m) *y++ = trit(q[48 + m], k);
        } else {
          d.block_scales[static_cast<size_t>(b)] = scale(q, b);
          for (int j = 0; j < 128; ++j) *y++ = ((q[2 + j / 8] >> (j % 8)) & 1) ? 1 : -1;
        }
      }
      break;
  }
  for (float v : d.values)
    if (!std::isfinite(v)) fail(f.path, "tensor " + t.name, "holds a value that is not finite");
  return d;
}

// A model tensor [rows, cols] from GGUF tensor `name` (dims {cols, rows}): ternary or
// binary codes keep one scale per matrix or per row when the blocks allow it; float
// values that are one scale times {-1, 0, +1} become ternary (binary when none is 0).
Tensor matrix(const GgufFile& f, const std::string& name, const std::string& as, int64_t rows, int64_t cols, bool allow_ternary) {
  const auto it = f.tensors.find(name);
  if (it == f.tensors.end()) fail(f.path, "tensor " + name, "missing");
  const TensorInfo& t = it->second;
  const int64_t got_rows = t.dims.size() > 1 ? t.dims[1] : 1;
  if (t.dims.size() > 2 || t.dims[0] != cols || got_rows != rows)
    fail(f.path, "tensor " + name, fmt::format("has dims [{}], expected [{}, {}] (GGUF order: columns first)", fmt::join(t.dims, ", "), cols, rows));
  Decoded d = decode(f, t);
  Tensor out;
  out.name = as;
  out.shape = {rows, cols};
  if (!d.codes.empty()) {
    const bool binary = t.type == T_Q1_0;
    // one scale for the whole matrix, ignoring blocks of zeros (their scale is arbitrary)
    float s = 0;
    bool one = true, per_row = cols % d.block == 0;
    for (size_t b = 0; b < d.block_scales.size(); ++b) {
      bool zero = true;
      for (int64_t j = 0; j < d.block && zero; ++j) zero = d.codes[b * static_cast<size_t>(d.block) + static_cast<size_t>(j)] == 0;
      if (zero) continue;
      if (s == 0) s = d.block_scales[b];
      one = one && d.block_scales[b] == s;
    }
    std::vector<float> row_scale(static_cast<size_t>(rows), 0.0f);
    const int64_t blocks_per_row = cols / d.block;
    for (int64_t r = 0; per_row && r < rows; ++r)
      for (int64_t b = 0; b < blocks_per_row; ++b) {
        const float bs = d.block_scales[static_cast<size_t>(r * blocks_per_row + b)];
        if (row_scale[static_cast<size_t>(r)] == 0) row_scale[static_cast<size_t>(r)] = bs;
        per_row = per_row && bs == row_scale[static_cast<size_t>(r)];
      }
    if (one || per_row) {
      out.dtype = binary ? WeightDType::Binary : WeightDType::Ternary;
      out.codes = std::move(d.codes);
      out.scales = one ? std::vector<float>{s == 0 ? 1.0f : std::fabs(s)} : row_scale;
      if (!one)
        for (float& x : out.scales) x = x == 0 ? 1.0f : std::fabs(x);
      if (s < 0 || (!one && std::any_of(row_scale.begin(), row_scale.end(), [](float x) { return x < 0; })))
        for (size_t i = 0; i < out.codes.size(); ++i) {
          const float sc = one ? s : row_scale[i / static_cast<size_t>(cols)];
          if (sc < 0) out.codes[i] = static_cast<int8_t>(-out.codes[i]);
        }
      return out;
    }
    // scales that vary inside a row: the real values, for the compiler to quantise
    d.values.resize(d.codes.size());
    for (size_t i = 0; i < d.codes.size(); ++i) d.values[i] = d.block_scales[i / static_cast<size_t>(d.block)] * d.codes[i];
  }
  out.dtype = WeightDType::F32;
  out.values = std::move(d.values);
  if (allow_ternary) ternary_from_one_magnitude(out);
  return out;
}

Tensor vector_tensor(const GgufFile& f, const std::string& name, const std::string& as, int64_t n) {
  Tensor t = matrix(f, name, as, 1, n, false);
  t.shape = {n};
  return t;
}

// tokenizer.ggml.* with model "llama": SentencePiece pieces ("\u2581" is a space), scores,
// token types (3: control, 6: byte), BOS.
Tokenizer tokenizer(const GgufFile& f, int64_t vocab_size) {
  const std::string model = text(f, "tokenizer.ggml.model");
  if (model != "llama")
    fail(f.path, "tokenizer.ggml.model", fmt::format("\"{}\" is not supported: only \"llama\" (SentencePiece-style BPE with byte fallback)", model));
  const Value* tokens = find(f, "tokenizer.ggml.tokens");
  const Value* scores = find(f, "tokenizer.ggml.scores");
  const Value* types = find(f, "tokenizer.ggml.token_type");
  if (!tokens || tokens->type != ARRAY || tokens->element_type != STRING) fail(f.path, "tokenizer.ggml.tokens", "expected an array of strings");
  if (static_cast<int64_t>(tokens->elements.size()) != vocab_size)
    fail(f.path, "tokenizer.ggml.tokens", fmt::format("{} tokens, but the token embedding has {} rows", tokens->elements.size(), vocab_size));
  if (vocab_size > kMaxBpeVocab && !(find(f, "bitgptc.tokenizer"))) fail(f.path, "tokenizer.ggml.tokens", fmt::format("{} tokens is over {}: BPE encoding tables hold 16-bit ids", vocab_size, kMaxBpeVocab));
  if (!scores || scores->type != ARRAY || scores->element_type != F32 || scores->elements.size() != tokens->elements.size())
    fail(f.path, "tokenizer.ggml.scores", "expected one float32 score per token");
  if (types && (types->type != ARRAY || !Value{types->element_type}.is_integer() || types->elements.size() != tokens->elements.size()))
    fail(f.path, "tokenizer.ggml.token_type", "expected one integer type per token");
  // bitgptc's own export of a table tokenizer (greedy longest match), which GGUF cannot name
  const Value* marker = find(f, "bitgptc.tokenizer");
  const bool table = marker && marker->type == STRING && marker->text == "table";
  Tokenizer t;
  t.kind = table ? TokenizerKind::Table : TokenizerKind::Bpe;
  t.bos = integer(f, "tokenizer.ggml.bos_token_id", 1, 0, vocab_size - 1);
  for (int64_t i = 0; i < vocab_size; ++i) {
    std::string piece = tokens->elements[static_cast<size_t>(i)].text;
    const int64_t type = types ? types->elements[static_cast<size_t>(i)].integer : 1;
    const std::optional<unsigned char> byte = byte_fallback(piece);
    const bool is_byte = byte.has_value() && (type == 6 || !types);
    if (is_byte) piece = std::string(1, static_cast<char>(*byte));
    else if (type == 2 || type == 3) piece.clear();  // unknown, control: print nothing
    else piece = sentencepiece_text(piece);
    t.pieces.push_back(piece);
    if (table) continue;
    t.scores.push_back(static_cast<float>(scores->elements[static_cast<size_t>(i)].real));
    t.byte_fallback.push_back(is_byte);
  }
  return t;
}

}  // namespace

bool looks_like_gguf(const std::string& path) {
  // Not a regular file (a FIFO would block the open): the loader names the problem.
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return false;
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::memcmp(magic, "GGUF", 4) == 0;
}

Model load_gguf(const std::string& path) {
  const GgufFile f = read_gguf(path);
  const std::string arch = text(f, "general.architecture");
  if (arch != "llama" && arch != "bitnet")
    fail(path, "general.architecture", fmt::format("\"{}\" is not supported (llama or bitnet)", arch));
  const bool bitnet = arch == "bitnet";
  const std::string k = arch + ".";
  Model m;
  m.source = path;
  m.inputs = {path};
  if (const Value* n = find(f, "general.name"); n && n->type == STRING && is_c_identifier(n->text, 48)) m.name = n->text;
  Architecture& a = m.arch;
  a.d_model = integer(f, k + "embedding_length", std::nullopt, 1, 1 << 16);
  a.n_layers = integer(f, k + "block_count", std::nullopt, 1, 1024);
  a.d_ff = integer(f, k + "feed_forward_length", std::nullopt, 1, 1 << 18);
  a.n_heads = integer(f, k + "attention.head_count", std::nullopt, 1, 1024);
  a.n_kv_heads = integer(f, k + "attention.head_count_kv", a.n_heads, 1, a.n_heads);
  if (a.n_heads % a.n_kv_heads) fail(path, k + "attention.head_count_kv", fmt::format("{} does not divide head_count {}", a.n_kv_heads, a.n_heads));
  a.head_dim = integer(f, k + "attention.key_length", a.d_model / a.n_heads, 2, 1 << 12);
  if (a.head_dim % 2) fail(path, k + "attention.key_length", "RoPE needs an even head dimension");
  a.max_seq_len = integer(f, k + "context_length", std::nullopt, 1, 1 << 20);
  a.rope_theta = real(f, k + "rope.freq_base", 10000.0);
  a.norm_eps = real(f, k + "attention.layer_norm_rms_epsilon", 1e-5);
  a.positions = Positions::Rope;
  a.norm = NormKind::RmsNorm;
  a.ffn = FfnKind::SwiGLU;
  a.sub_norm = bitnet;
  const auto emb = f.tensors.find("token_embd.weight");
  if (emb == f.tensors.end() || emb->second.dims.size() != 2) fail(path, "tensor token_embd.weight", "missing, or not two-dimensional");
  a.vocab_size = emb->second.dims[1];
  a.tied_classifier = !f.tensors.count("output.weight");
  auto add = [&](Tensor t) { m.tensors.emplace(t.name, std::move(t)); };
  auto L = [](int64_t l, const char* s) { return fmt::format("layers.{}.{}", l, s); };
  auto B = [](int64_t l, const char* s) { return fmt::format("blk.{}.{}", l, s); };
  add(matrix(f, "token_embd.weight", "tok_embeddings", a.vocab_size, a.d_model, false));
  add(vector_tensor(f, "output_norm.weight", "final_norm.weight", a.d_model));
  if (!a.tied_classifier) add(matrix(f, "output.weight", "classifier", a.vocab_size, a.d_model, true));
  const struct { const char* gguf; const char* ours; int64_t rows, cols; } mats[] = {
      {"attn_q", "attn.wq", a.q_dim(), a.d_model},   {"attn_k", "attn.wk", a.kv_dim(), a.d_model},   {"attn_v", "attn.wv", a.kv_dim(), a.d_model},
      {"attn_output", "attn.wo", a.d_model, a.q_dim()}, {"ffn_gate", "ffn.w1", a.d_ff, a.d_model}, {"ffn_down", "ffn.w2", a.d_model, a.d_ff},
      {"ffn_up", "ffn.w3", a.d_ff, a.d_model}};
  for (int64_t l = 0; l < a.n_layers; ++l) {
    for (const auto& mat : mats) {
      Tensor t = matrix(f, B(l, mat.gguf) + ".weight", L(l, mat.ours), mat.rows, mat.cols, true);
      // bitnet: an optional per-tensor scale multiplies the matrix
      if (const auto s = f.tensors.find(B(l, mat.gguf) + ".scale"); bitnet && s != f.tensors.end()) {
        const Tensor scale = vector_tensor(f, s->first, s->first, 1);
        const float v = scale.values.empty() ? scale.scales[0] * scale.codes[0] : scale.values[0];
        for (float& x : t.values) x *= v;
        for (float& x : t.scales) x *= v;
        if (v < 0)
          for (float& x : t.scales) x = -x;  // a negative scale would be refused later, by name
      }
      if (bitnet && (mat.gguf == std::string("attn_q") || mat.gguf == std::string("attn_k"))) rotate_half_to_pairs(t, a.head_dim);
      add(std::move(t));
    }
    add(vector_tensor(f, B(l, "attn_norm.weight"), L(l, "attn_norm.weight"), a.d_model));
    add(vector_tensor(f, B(l, "ffn_norm.weight"), L(l, "ffn_norm.weight"), a.d_model));
    if (bitnet) {
      add(vector_tensor(f, B(l, "attn_sub_norm.weight"), L(l, "attn.sub_norm.weight"), a.q_dim()));
      add(vector_tensor(f, B(l, "ffn_sub_norm.weight"), L(l, "ffn.sub_norm.weight"), a.d_ff));
    }
  }
  m.tokenizer = tokenizer(f, a.vocab_size);
  return m;
}

}  // namespace bitgpt
