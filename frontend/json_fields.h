// Reading JSON the user gives (model.json, Hugging Face config.json and tokenizer.json,
// safetensors headers): parse errors name the line and column; fields are read typed and
// range-checked, with messages that name the file and the field.
#pragma once

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "support/diagnostics.h"

namespace bitgpt {

// The JSON document in `text`; throws Error naming `path` and the line and column.
nlohmann::json parse_json_text(const std::string& path, const std::vector<uint8_t>& text);

// Typed, range-checked access to the fields of a JSON object, with messages that name the
// file and the field (prefix.key).
class Fields {
 public:
  Fields(const std::string& file, const nlohmann::json& obj, std::string prefix) : file_(file), obj_(obj), prefix_(std::move(prefix)) {
    if (!obj_.is_object()) fail(file_, prefix_.empty() ? "(top level)" : prefix_, "expected a JSON object");
  }

  std::string path(const std::string& key) const { return prefix_.empty() ? key : prefix_ + "." + key; }
  bool has(const std::string& key) const { return obj_.contains(key); }
  const nlohmann::json& raw(const std::string& key) const {
    if (!obj_.contains(key)) fail(file_, path(key), "missing (required)");
    return obj_.at(key);
  }

  int64_t integer(const std::string& key, int64_t lo, int64_t hi) const {
    const nlohmann::json& v = raw(key);
    if (!v.is_number_integer()) fail(file_, path(key), "expected an integer, got " + std::string(v.type_name()));
    int64_t x = 0;
    if (v.is_number_unsigned()) {
      const uint64_t u = v.get<uint64_t>();
      if (u > static_cast<uint64_t>(hi)) fail(file_, path(key), fmt::format("{} is out of range [{}, {}]", u, lo, hi));
      x = static_cast<int64_t>(u);
    } else {
      x = v.get<int64_t>();
    }
    if (x < lo || x > hi) fail(file_, path(key), fmt::format("{} is out of range [{}, {}]", x, lo, hi));
    return x;
  }
  int64_t integer_or(const std::string& key, int64_t lo, int64_t hi, int64_t dflt) const {
    return has(key) ? integer(key, lo, hi) : dflt;
  }

  double number(const std::string& key, double lo, double hi) const {
    const nlohmann::json& v = raw(key);
    if (!v.is_number()) fail(file_, path(key), "expected a number, got " + std::string(v.type_name()));
    const double x = v.get<double>();
    if (!std::isfinite(x) || x < lo || x > hi) fail(file_, path(key), fmt::format("{} is out of range [{}, {}]", x, lo, hi));
    return x;
  }
  double number_or(const std::string& key, double lo, double hi, double dflt) const {
    return has(key) ? number(key, lo, hi) : dflt;
  }

  std::string string(const std::string& key) const {
    const nlohmann::json& v = raw(key);
    if (!v.is_string()) fail(file_, path(key), "expected a string, got " + std::string(v.type_name()));
    return v.get<std::string>();
  }

  bool boolean_or(const std::string& key, bool dflt) const {
    if (!has(key)) return dflt;
    const nlohmann::json& v = raw(key);
    if (!v.is_boolean()) fail(file_, path(key), "expected true or false, got " + std::string(v.type_name()));
    return v.get<bool>();
  }

  template <typename Enum>
  Enum choice(const std::string& key, const std::vector<std::pair<const char*, Enum>>& options) const {
    const std::string s = string(key);
    std::string names;
    for (const auto& [name, value] : options) {
      if (s == name) return value;
      names += (names.empty() ? "" : ", ") + std::string("\"") + name + "\"";
    }
    fail(file_, path(key), "\"" + s + "\" is not one of " + names);
  }

 private:
  const std::string& file_;
  const nlohmann::json& obj_;
  std::string prefix_;
};

}  // namespace bitgpt
