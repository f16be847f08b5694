// Where an object file from the object backend puts each part of a model: ELF section
// names a linker script maps to memories (the C++ backend leaves this to the build's
// BITGPT_*_SECTION macros instead). Named in NAME.h's memory contract.
#pragma once

#include <string>

namespace bitgpt {

struct ObjectSections {
  std::string weights = ".rodata.bitgpt";  // the constants (flash), as the C++ backend's BITGPT_FLASH
  std::string arena = ".bss.bitgpt.arena";
  std::string kv = ".bss.bitgpt.kv";
  std::string state = ".bss.bitgpt.state";  // position, sampler, checksum, the BPE prompt buffer
};

}  // namespace bitgpt
