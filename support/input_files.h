// Reading the files a user names (checkpoints, sidecars, tokenizers, texts) without
// hanging or misreporting: a path is checked to be a regular file of a bounded size
// before anything opens it, so a folder, a device (/dev/zero) or a pipe gets a clear
// error instead of a blocked read or a size of 2^64 - 1.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bitgpt {

// The size of regular file `path`; throws Error naming the path and `what` ("model
// manifest", "tokenizer", ...) when it is missing, not a regular file or over max_bytes.
int64_t check_input_file(const std::string& path, const std::string& what, int64_t max_bytes);

// Its bytes, after the same checks.
std::vector<uint8_t> read_input_file(const std::string& path, const std::string& what, int64_t max_bytes);

}  // namespace bitgpt
