// The kernels' bitcode, compiled at bitgptc's build time and embedded in it
// (cmake/kernel_bitcode.cmake), by build key (kernel_builds.h).
#pragma once

#include <string>
#include <string_view>

namespace bitgpt {

// The bitcode of build `key`, or an empty view when bitgptc has none.
std::string_view kernel_bitcode(const std::string& key);

}  // namespace bitgpt
