// The object backend's module: the lowered program as LLVM IR, built in process with
// LLVM's C++ API on top of the kernels' bitcode (kernels.cpp) for the model's target and
// row kernel. Weights are constant globals in the flash section, the arena, KV cache and
// state globals of exactly the planned sizes in named RAM sections; every step is a
// function of its own that calls its kernel with constant arguments; the C API of
// NAME.h (api_header.cpp) is defined on top. Nothing here optimises or writes files
// (object_emitter.cpp does).
#pragma once

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <memory>
#include <string>

#include "codegen/provenance.h"
#include "codegen/sections.h"
#include "passes/pipeline.h"

namespace bitgpt {

// The model's module, its API functions external and everything else (the kernels
// included) still as linked from the bitcode. When the program has a layer loop (and the
// memory is static), the layers run through one run_layer over a table of their weights,
// norms and KV caches, as in the C++ backend. Throws Error when bitgptc carries no
// kernels for the target, or when the kernels' struct layout is not the one assumed here.
std::unique_ptr<llvm::Module> build_model_module(llvm::LLVMContext& context, const CompiledModel& c, const Provenance& origin,
                                                 const ObjectSections& sections);

// The API functions (NAME_reset, NAME_feed, ...): what stays external when the rest is
// internalised.
bool is_api_symbol(const CompiledModel& c, const std::string& symbol);

}  // namespace bitgpt
