// Shared by the libFuzzer harnesses: the readers take paths, so each input is written to
// a file of a per-process temporary folder; and the small valid model the harnesses that
// mutate a manifest start from (its sidecar stays valid while the manifest changes).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "frontend/model_json.h"
#include "tests/tools/random_model.h"

namespace bitgpt::fuzz {

inline const std::filesystem::path& temp_dir() {
  static const std::filesystem::path dir = [] {
    const char* base = std::getenv("TMPDIR");
    auto d = std::filesystem::path(base ? base : "/tmp") / ("bitgpt_fuzz_" + std::to_string(getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

inline std::string write_file(const std::string& name, const uint8_t* data, size_t n) {
  const std::string path = (temp_dir() / name).string();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(n));
  return path;
}

// The starting model of the manifest harnesses: tiny, ternary, sub-norms, a table
// tokenizer. make_fuzz_seeds writes its manifest as the seed; the harness writes the same
// sidecar next to every mutated manifest.
inline Model seed_model() {
  RandomModelSpec s = shaped_spec("fuzz", 8, 1, 2, 1, 4, 12, 260, 16);
  s.tokenizer = "table";
  return random_model(s);
}

// Writes the seed model as temp_dir()/model.json + its sidecar; returns the manifest path.
inline std::string write_seed_model() {
  const std::string path = (temp_dir() / "model.json").string();
  write_model_json(seed_model(), path);
  return path;
}

// Splits an input into two files: a little-endian u32 gives the first part's length
// (modulo what is there), the rest is the second part.
inline std::pair<std::vector<uint8_t>, std::vector<uint8_t>> split(const uint8_t* data, size_t n) {
  if (n < 4) return {{}, std::vector<uint8_t>(data, data + n)};
  uint32_t len;
  std::memcpy(&len, data, 4);
  const size_t first = n - 4 == 0 ? 0 : len % (n - 4 + 1);
  return {std::vector<uint8_t>(data + 4, data + 4 + first), std::vector<uint8_t>(data + 4 + first, data + n)};
}

}  // namespace bitgpt::fuzz
