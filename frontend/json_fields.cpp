#include "frontend/json_fields.h"

namespace bitgpt {

nlohmann::json parse_json_text(const std::string& path, const std::vector<uint8_t>& text) {
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    // line and column of the byte the parser stopped at (1-based), and the offset
    size_t line = 1, column = 1;
    for (size_t i = 0; i + 1 < e.byte && i < text.size(); ++i) {
      if (text[i] == '\n') ++line, column = 1;
      else ++column;
    }
    fail(path, fmt::format("line {} column {} (byte offset {})", line, column, e.byte), "not valid JSON");
  } catch (const nlohmann::json::exception& e) {
    fail(path, "", fmt::format("not valid JSON: {}", e.what()));  // e.g. a number out of range (1e400)
  }
}

}  // namespace bitgpt
