// Files embedded into the compiler at build time (cmake/embed_files.cmake), so that an
// output folder needs nothing else: the runtime headers (runtime/*.h) and the templates
// of the emitted project (codegen/templates/*), each as (file name, text).
#pragma once

#include <string_view>
#include <utility>
#include <vector>

namespace bitgpt {

const std::vector<std::pair<std::string_view, std::string_view>>& runtime_files();
const std::vector<std::pair<std::string_view, std::string_view>>& template_files();

}  // namespace bitgpt
