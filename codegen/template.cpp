#include "codegen/template.h"

#include <cctype>

#include "codegen/embedded_files.h"
#include "support/diagnostics.h"

namespace bitgpt {

namespace {

constexpr std::string_view kTemplateModel = "bgmodel";

void replace_all(std::string& s, std::string_view from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
}

// The first @KEY@ (upper case and '_') left in s, or "".
std::string unset_placeholder(const std::string& s) {
  for (size_t at = s.find('@'); at != std::string::npos; at = s.find('@', at + 1)) {
    size_t end = at + 1;
    while (end < s.size() && (std::isupper(static_cast<unsigned char>(s[end])) || s[end] == '_')) ++end;
    if (end > at + 1 && end < s.size() && s[end] == '@') return s.substr(at, end + 1 - at);
  }
  return "";
}

}  // namespace

std::string instantiate_template(const std::string& name, const std::string& model_name, const std::map<std::string, std::string>& values) {
  for (const auto& [file, text] : template_files()) {
    if (file != name) continue;
    std::string s(text);
    replace_all(s, kTemplateModel, model_name);
    for (const auto& [key, value] : values) replace_all(s, "@" + key + "@", value);
    if (const std::string unset = unset_placeholder(s); !unset.empty()) throw Error("internal error: template " + name + ": " + unset + " has no value");
    return s;
  }
  throw Error("internal error: no template " + name);
}

}  // namespace bitgpt
