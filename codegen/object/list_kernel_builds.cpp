// Prints the kernel builds (kernel_builds.h), one "KEY|CLANG FLAGS" line each, for
// cmake/kernel_bitcode.cmake: the target table stays the one place that knows the targets.
#include <cstdio>

#include "codegen/object/kernel_builds.h"

int main() {
  for (const bitgpt::KernelBuild& b : bitgpt::kernel_builds()) std::printf("%s|%s\n", b.key.c_str(), b.clang_flags.c_str());
  return 0;
}
