// The C++ source backend: writes a compiled model as self-contained C++17 (a C API
// header, the forward pass, flash-resident weights, the runtime headers) plus a host
// demo (main + CMakeLists.txt) into a directory.
#pragma once

#include <map>
#include <string>

#include "codegen/provenance.h"
#include "passes/pipeline.h"

namespace bitgpt {

// File name -> content, for the model `origin` names. Nothing is written here; see
// support/output_files.h.
std::map<std::string, std::string> emit_cpp(const CompiledModel& c, const Provenance& origin);

// The parts, each in a file of its own (origin: for the banners).
std::string emit_api_header(const CompiledModel& c, const Provenance& origin);
std::string emit_weights_source(const CompiledModel& c, const Provenance& origin);
std::string emit_forward_source(const CompiledModel& c, const Provenance& origin);

}  // namespace bitgpt
