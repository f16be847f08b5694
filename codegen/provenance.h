// Where an output came from, recorded in the report (text, JSON, HTML) and in the banner
// of the emitted header, so a binary's model can be traced to the compiler and the files
// that made it.
#pragma once

#include <string>

namespace bitgpt {

struct Provenance {
  std::string source;        // the model file's name, as the emitted banners give it
  std::string version;       // bitgptc's
  std::string command_line;  // as it was run
  std::string model_hash;    // FNV-1a 64 over the bytes of the model's files, in order (manifest, sidecar, tokenizer)
  double clock_mhz = 0;      // the clock for time estimates; 0: the target's typical clock
};

}  // namespace bitgpt
