#include "frontend/safetensors.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "frontend/json_fields.h"
#include "support/diagnostics.h"
#include "support/half_float.h"
#include "support/input_files.h"

namespace bitgpt {

namespace {

constexpr int64_t kMaxFileBytes = int64_t{64} << 30;
constexpr uint64_t kMaxHeaderBytes = uint64_t{100} << 20;  // the format's own limit
constexpr uint64_t kMaxElements = uint64_t{1} << 40;

struct DtypeInfo {
  const char* name;
  int bytes;
};
constexpr DtypeInfo kDtypes[] = {{"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4}, {"I16", 2}, {"I8", 1},
                                 {"U64", 8}, {"U32", 4}, {"U16", 2}, {"U8", 1},    {"BOOL", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1}};

int dtype_bytes(const std::string& d) {
  for (const DtypeInfo& i : kDtypes)
    if (d == i.name) return i.bytes;
  return 0;
}

}  // namespace

int64_t SafeTensor::elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
  bytes_ = read_input_file(path, "safetensors file", kMaxFileBytes);
  auto error = [&](const std::string& field, const std::string& msg) { fail(path, field, msg); };
  if (bytes_.size() < 8) error("byte offset 0", fmt::format("{} bytes: too short for the 8-byte header length", bytes_.size()));
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(bytes_[static_cast<size_t>(i)]) << (8 * i);
  if (n > bytes_.size() - 8) error("byte offset 0", fmt::format("the header length {} runs past the end of the file ({} bytes)", n, bytes_.size()));
  if (n > kMaxHeaderBytes) error("byte offset 0", fmt::format("the header length {} is over the format's limit of 100 MiB", n));
  const std::vector<uint8_t> text(bytes_.begin() + 8, bytes_.begin() + 8 + static_cast<std::ptrdiff_t>(n));
  // Duplicate names: JSON parsers keep the last silently, so the keys are counted as read.
  std::set<std::string> seen;
  std::string duplicate;
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text.begin(), text.end(), [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
      if (depth == 1 && event == nlohmann::json::parse_event_t::key && !seen.insert(parsed.get<std::string>()).second && duplicate.empty())
        duplicate = parsed.get<std::string>();
      return true;
    });
  } catch (const nlohmann::json::exception&) {
    header = parse_json_text(path + " (header)", text);  // names the line and column
  }
  if (!header.is_object()) error("header", "expected a JSON object");
  if (!duplicate.empty()) error("tensor " + duplicate, "appears twice in the header");
  const uint64_t data_start = 8 + n, data_size = bytes_.size() - data_start;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) error("__metadata__", "expected an object of strings");
      continue;
    }
    const std::string field = "tensor " + name;
    if (!entry.is_object()) error(field, "expected an object with dtype, shape and data_offsets");
    Fields f(path, entry, field);
    SafeTensor t;
    t.name = name;
    t.dtype = f.string("dtype");
    const int size = dtype_bytes(t.dtype);
    if (!size) error(field + ".dtype", "\"" + t.dtype + "\" is not a safetensors dtype");
    const nlohmann::json& shape = f.raw("shape");
    if (!shape.is_array() || shape.size() > 8) error(field + ".shape", "expected an array of at most 8 dimensions");
    uint64_t elements = 1;
    for (size_t i = 0; i < shape.size(); ++i) {
      if (!shape[i].is_number_unsigned()) error(fmt::format("{}.shape[{}]", field, i), "expected a non-negative integer");
      const uint64_t d = shape[i].get<uint64_t>();
      if (d > kMaxElements || (d && elements > kMaxElements / d)) error(fmt::format("{}.shape[{}]", field, i), fmt::format("{}: more than 2^40 elements in all", d));
      elements *= d;
      t.shape.push_back(static_cast<int64_t>(d));
    }
    const nlohmann::json& offsets = f.raw("data_offsets");
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned())
      error(field + ".data_offsets", "expected [begin, end], two non-negative integers");
    const uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
    if (begin > end || end > data_size)
      error(field + ".data_offsets", fmt::format("[{}, {}] is not a byte range inside the {} bytes of data", begin, end, data_size));
    if (end - begin != elements * static_cast<uint64_t>(size))
      error(field + ".data_offsets", fmt::format("[{}, {}] holds {} bytes; {} {} elements need {}", begin, end, end - begin, elements, t.dtype, elements * static_cast<uint64_t>(size)));
    t.data = bytes_.data() + data_start + begin;
    t.bytes = static_cast<size_t>(end - begin);
    if (begin != end) ranges.emplace_back(begin, end);
    tensors_.emplace(name, std::move(t));
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second)
      error("data_offsets", fmt::format("two tensors overlap: bytes [{}, {}) and [{}, {})", ranges[i - 1].first, ranges[i - 1].second, ranges[i].first, ranges[i].second));
}

const SafeTensor* SafetensorsFile::find(const std::string& name) const {
  const auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

std::vector<float> SafetensorsFile::floats(const SafeTensor& t) const {
  const size_t n = static_cast<size_t>(t.elements());
  std::vector<float> v(n);
  const uint8_t* p = t.data;
  if (t.dtype == "F32") {
    std::memcpy(v.data(), p, 4 * n);
  } else if (t.dtype == "F16" || t.dtype == "BF16") {
    for (size_t i = 0; i < n; ++i) v[i] = t.dtype == "F16" ? half_to_float(le16(p + 2 * i)) : bf16_to_float(le16(p + 2 * i));
  } else if (t.dtype == "F64") {
    for (size_t i = 0; i < n; ++i) {
      double d;
      std::memcpy(&d, p + 8 * i, 8);
      if (!std::isfinite(d) || std::fabs(d) > 3.4028234663852886e38) fail(path_, "tensor " + t.name, fmt::format("element {} ({}) is not a finite float32", i, d));
      v[i] = static_cast<float>(d);
    }
  } else {
    fail(path_, "tensor " + t.name, "dtype " + t.dtype + " where a floating-point tensor (F32, F16, BF16 or F64) is expected");
  }
  for (size_t i = 0; i < n; ++i)
    if (!std::isfinite(v[i])) fail(path_, "tensor " + t.name, fmt::format("element {} is not finite", i));
  return v;
}

std::string safetensors_bytes(const std::vector<SafeTensorData>& tensors) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  header["__metadata__"] = {{"format", "pt"}};
  size_t at = 0;
  for (const SafeTensorData& t : tensors) {
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {at, at + t.bytes.size()}}};
    at += t.bytes.size();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // the data starts 8-byte aligned
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(static_cast<uint64_t>(text.size()) >> (8 * i)));
  out += text;
  for (const SafeTensorData& t : tensors) out += t.bytes;
  return out;
}

}  // namespace bitgpt
