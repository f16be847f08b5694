// The C++ source backend: writes a compiled model as self-contained C++17 (a C API
// header, the forward pass, flash-resident weights, the runtime headers) plus a host
// demo (main + CMakeLists.txt) into a directory.
#pragma once

#include <map>
#include <string>

#include "codegen/provenance.h"
#include "codegen/sections.h"
#include "passes/pipeline.h"

namespace bitgpt {

// File name -> content, for the model `origin` names. Nothing is written here; see
// support/output_files.h.
std::map<std::string, std::string> emit_cpp(const CompiledModel& c, const Provenance& origin);

// Throws Error when model name n would collide with another file of the output folder.
void check_model_name_is_free(const std::string& n);

// The projects around a model's code, for both backends: CMakeLists.txt building
// model_sources as the model's library, the host demo when with_demo, and for a target
// with a QEMU board that fits the plan the firmware project linking firmware_objects
// (paths relative to firmware/).
void add_project_files(const CompiledModel& c, const Provenance& origin, const std::string& model_sources, const std::string& firmware_objects,
                       bool with_demo, std::map<std::string, std::string>& files);

// The parts, each in a file of its own (origin: for the banners).
// sections: an object file's placement (object backend), or null for the C++ sources'.
std::string emit_api_header(const CompiledModel& c, const Provenance& origin, const ObjectSections* sections = nullptr);
std::string emit_weights_source(const CompiledModel& c, const Provenance& origin);
std::string emit_forward_source(const CompiledModel& c, const Provenance& origin);

}  // namespace bitgpt
