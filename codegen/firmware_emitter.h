// The firmware backend: for a target with a QEMU board, a ready bare-metal project in the
// subfolder firmware/ of the emitted C++ (startup with stack painting, a linker script whose RAM is exactly
// the SRAM budget, semihosting output, a main, and a Makefile with `make run`).
#pragma once

#include <map>
#include <string>

#include "passes/pipeline.h"

namespace bitgpt {

bool has_firmware(const TargetDesc& t);

// Why c gets no firmware project ("" when it does): the target has no QEMU board, or the
// budgets exceed the board's memories (the model's library is still emitted).
std::string firmware_unavailable(const CompiledModel& c);

// Adds the firmware files to `files` (file name -> content); model_objects: what the
// firmware's Makefile links of the model, relative to firmware/ (the objects it compiles
// from the model's sources, or ../NAME.o from the object backend).
void emit_firmware(const CompiledModel& c, const std::string& model_objects, std::map<std::string, std::string>& files);

}  // namespace bitgpt
