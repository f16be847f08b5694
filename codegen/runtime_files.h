// The runtime headers (runtime/*.h), embedded into the compiler at build time so that an
// output directory needs nothing else.
#pragma once

#include <string_view>
#include <utility>
#include <vector>

namespace bitgpt {

const std::vector<std::pair<std::string_view, std::string_view>>& runtime_files();

}  // namespace bitgpt
