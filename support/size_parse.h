// Sizes on the command line: 8192, 0x2000, 8K, 8KB, 8KiB, 1M, 1MiB (K = 1024).
#pragma once

#include <cstdint>
#include <string>

namespace bitgpt {

// Throws Error naming `option` when `text` is not a positive size below 2^40.
int64_t parse_size(const std::string& text, const std::string& option);

}  // namespace bitgpt
