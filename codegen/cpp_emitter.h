// The C++ source backend: writes a compiled model as self-contained C++17 (a C API
// header, the forward pass, flash-resident weights, the runtime headers) plus a host
// demo (main + CMakeLists.txt) into a directory.
#pragma once

#include <map>
#include <string>

#include "passes/pipeline.h"

namespace bitgpt {

// File name -> content. Nothing is written here; see write_output_dir.
std::map<std::string, std::string> emit_cpp(const CompiledModel& c, const std::string& source_name);

// Writes `files` into `dir` atomically: into a sibling temporary folder first, which then
// replaces `dir`; on failure nothing is left behind.
void write_output_dir(const std::string& dir, const std::map<std::string, std::string>& files);

}  // namespace bitgpt
