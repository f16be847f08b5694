#include "support/input_files.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "support/diagnostics.h"

namespace bitgpt {

namespace fs = std::filesystem;

int64_t check_input_file(const std::string& path, const std::string& what, int64_t max_bytes) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) fail(path, "", what + " not found");
  if (fs::is_directory(st)) fail(path, "", what + " is a directory, not a file");
  if (!fs::is_regular_file(st)) fail(path, "", what + " is not a regular file (a device or a pipe cannot be read as one)");
  const auto size = static_cast<int64_t>(fs::file_size(path, ec));
  if (ec) fail(path, "", "cannot read the size of the " + what + ": " + ec.message());
  if (size > max_bytes) fail(path, "", fmt::format("{} is {} bytes, more than the {} allowed", what, size, max_bytes));
  return size;
}

std::vector<uint8_t> read_input_file(const std::string& path, const std::string& what, int64_t max_bytes) {
  const int64_t size = check_input_file(path, what, max_bytes);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "", "cannot open the " + what);
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size)) fail(path, "", "cannot read the " + what);
  return bytes;
}

}  // namespace bitgpt
