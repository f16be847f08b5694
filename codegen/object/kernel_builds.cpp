#include "codegen/object/kernel_builds.h"

#include <fmt/format.h>

namespace bitgpt {

std::string kernel_build_key(const TargetDesc& t, ir::Kernel row_kernel) {
  return fmt::format("{}.{}", t.name, ir::kernel_name(row_kernel));
}

std::vector<KernelBuild> kernel_builds() {
  std::vector<KernelBuild> builds;
  for (const TargetDesc& t : all_targets()) {
    if (std::string(t.llvm_triple).empty()) continue;
    // the host: clang's default triple, the machine bitgptc is built on
    const std::string base = (t.llvm_host() ? std::string() : "--target=" + std::string(t.llvm_triple) + " ") + t.gcc_flags +
                             (t.int8_row_pairs ? " -DBITGPT_INT8_PAIRS" : "") + (t.lut_word_indices() ? " -DBITGPT_LUT_WORDS=2" : "");
    builds.push_back({kernel_build_key(t, ir::Kernel::PlainC), base});
    if (t.dsp) builds.push_back({kernel_build_key(t, ir::Kernel::Smlad), base + " -DBITGPT_KERNEL_SMLAD -DBITGPT_INT16_QUADS"});
    if (t.mve) builds.push_back({kernel_build_key(t, ir::Kernel::Helium), base + " -DBITGPT_KERNEL_MVE"});
  }
  return builds;
}

}  // namespace bitgpt
