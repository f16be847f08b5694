// safetensors, Hugging Face's tensor container: an 8-byte little-endian header length N,
// N bytes of JSON ({name: {"dtype", "shape", "data_offsets": [begin, end]}, and an
// optional "__metadata__" of strings}), then the tensor data, offsets relative to its
// start, little-endian, row-major.
// Checked on reading: the header's length and JSON, every dtype, shape (at most 2^40
// elements) and byte range (inside the data, of exactly the size the dtype and shape
// need, no two overlapping), duplicate names.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace bitgpt {

struct SafeTensor {
  std::string name;
  std::string dtype;  // "F32", "F16", "BF16", "U8", ...
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  size_t bytes = 0;
  int64_t elements() const;
};

class SafetensorsFile {
 public:
  // Reads and checks the whole file; throws Error naming the file, the tensor or the byte
  // offset, and what was expected.
  explicit SafetensorsFile(const std::string& path);
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::map<std::string, SafeTensor>& tensors() const { return tensors_; }
  const SafeTensor* find(const std::string& name) const;

  // The values of a floating-point tensor (F32, F16, BF16, F64) as float; throws Error for
  // another dtype or a value that is not finite.
  std::vector<float> floats(const SafeTensor& t) const;

 private:
  std::string path_;
  std::vector<uint8_t> bytes_;
  std::map<std::string, SafeTensor> tensors_;
};

// A tensor to write: its name, dtype ("F32" or "U8") and shape, and its little-endian bytes.
struct SafeTensorData {
  std::string name, dtype;
  std::vector<int64_t> shape;
  std::string bytes;
};

// The bytes of a safetensors file holding `tensors` back to back, in this order.
std::string safetensors_bytes(const std::vector<SafeTensorData>& tensors);

}  // namespace bitgpt
