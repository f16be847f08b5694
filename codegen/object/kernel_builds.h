// The builds of the object backend's kernels (kernels.cpp): one per target of the table
// with an LLVM triple and per row kernel that target can run. The build compiles each to
// bitcode with clang (cmake/kernel_bitcode.cmake, from the list list_kernel_builds prints);
// the backend looks up the one a compiled model needs by its key.
#pragma once

#include <string>
#include <vector>

#include "ir/ir.h"
#include "targets/target.h"

namespace bitgpt {

struct KernelBuild {
  std::string key;          // "cortex-m4.smlad": target and row kernel
  std::string clang_flags;  // for clang-19: triple, CPU flags, the row kernel's macro
};

// Every build of every target (kernels.cpp is the same file for all).
std::vector<KernelBuild> kernel_builds();

// The key of target t's kernels for row kernel k (lookup products are in every build).
std::string kernel_build_key(const TargetDesc& t, ir::Kernel row_kernel);

}  // namespace bitgpt
