// Where an output came from, recorded in the report (text, JSON, HTML) and in the banner
// of the emitted header, so a binary's model can be traced to the compiler and the files
// that made it.
#pragma once

#include <fmt/format.h>

#include <string>

namespace bitgpt {

struct Provenance {
  std::string source;        // the model file's name, as the emitted banners give it
  std::string version;       // bitgptc's
  std::string command_line;  // as it was run
  std::string model_hash;    // FNV-1a 64 over the bytes of the model's files, in order (manifest, sidecar, tokenizer)
  double clock_mhz = 0;      // the clock for time estimates; 0: the target's typical clock
};

// "bitgptc VERSION; model files FNV-1a 64 HASH": what NAME_provenance() returns and the
// report and banners say (just "bitgptc" when the version is not known).
inline std::string made_by(const Provenance& p) {
  return p.version.empty() ? "bitgptc" : fmt::format("bitgptc {}; model files FNV-1a 64 {}", p.version, p.model_hash);
}

}  // namespace bitgpt
