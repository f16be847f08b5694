// Target descriptions: one table row per target, read by the pipeline, the SRAM fitter
// and the backends. Adding a target means adding a row, not an `if`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bitgpt {

// Executed instructions of the matrix-product kernels per unit of work, read from the
// per-address profile of the project's QEMU plugin (docs/performance.md, "Kernel cost
// model"): what passes/kernel_cost.h weighs when it picks a kernel per product.
struct DotCosts {
  double row_per_weight = 0;       // the target's row kernel (plain C, SMLAD or Helium), per weight
  double plain_row_per_weight = 0; // the plain-C row kernel (--kernel portable), per weight
  double row_per_row = 0;          // per output row: call, pointers, tail, stores
  double lut_per_group = 0;        // lookup kernel, per group of 4 weights: index, table entry, add
  double lut_per_row_chunk = 0;    // per output row and chunk: the call and the partial sum
  // The same for chunks summed as straight code, two rows at a time (16, 8 or 4 groups
  // when there are several chunks: passes/kernel_cost.cpp).
  double lut_per_row_straight_chunk = 0;
  double lut_build_per_group = 0;  // the 81 table entries of a group, once per input vector
  // More per row and chunk where the kernel tests which of a chunk's last lookups to make
  // (passes/kernel_cost.cpp says which chunk sizes).
  double lut_tail_per_row_chunk = 0;
  // Lookups of indices stored in 32-bit words, per group (0: the core has no such kernel):
  // one LDM loads four indices, so a group is its table load, its add and a quarter LDM.
  double lut_word_per_group = 0;
  // Attention, per cached element attended to (per slot, query head and head_dim element:
  // its part of q.k, the softmax and the weighted sum of values), 8-bit and 4-bit cache.
  // Measured on the cortex-m4 (the difference of two windows at one kernel and precision,
  // bench/cortex_m_bench.sh, docs/performance.md); the other cores take its figures.
  double attention_per_element8 = 8.7;
  double attention_per_element4 = 19.0;
};

struct TargetDesc {
  const char* name;
  const char* description;
  const char* gcc_flags;    // the cross GCC's CPU flags (toolchain below); "" for the host compiler
  const char* qemu_board;   // QEMU machine that runs it; "" when none
  uint32_t flash_origin = 0, ram_origin = 0;  // where that board's code and data memories start
  int64_t board_flash = 0, board_ram = 0;     // and how large they are: a firmware project must fit
  bool dsp = false;         // Armv7E-M DSP (SMLAD, SXTB16)
  bool mve = false;         // Helium
  bool fpu = false;
  int64_t default_sram = 0, default_flash = 0;
  // SRAM the call stack may use: no recursion, no alloca or VLAs and a fixed call depth
  // (API -> step -> kernel -> helpers) bound it by construction. The e2e tests check the
  // reserve against GCC's call-graph frame sizes (tests/tools/stack_bound.cpp) and the
  // stack-painting peak measured under QEMU.
  int64_t stack_reserve = 0;
  // Flash of the code (runtime, forward pass, startup, libgcc) is estimated as
  // code_base + code_per_step x steps of the plan: an upper envelope of both backends'
  // builds of every e2e model (the C++ sources by the cross GCC at -O2, the LLVM object;
  // the tests check measured flash <= the plan's total), so the flash fit (base-3 packing,
  // the budget check) can rely on it. The object is up to 8 KB larger on the SMLAD cores.
  int64_t code_base = 0, code_per_step = 0;
  DotCosts dot;
  double clock_mhz = 0;  // a typical clock of such a core, for the report's time estimates (0: not given)
  // The LLVM triple of --emit obj ("host": the build machine's; "": no object backend).
  // The kernels' bitcode is compiled for it with the gcc flags above (codegen/object/).
  const char* llvm_triple = "";
  bool llvm_host() const { return std::string(llvm_triple) == "host"; }
  // The firmware project's tools: the GNU cross toolchain's prefix, its C library's
  // compile and link flags, the QEMU system emulator of the board.
  const char* toolchain = "arm-none-eabi-";
  const char* libc_flags = "--specs=nano.specs";
  const char* qemu_system = "qemu-system-arm";
  // A target the build machine itself runs, only where bitgptc is built for this
  // architecture ("x86_64"); "" for the host and the cross targets.
  const char* build_arch = "";
  // Its row kernel reads ternary rows of whole 128-weight blocks packed as
  // BG_W_TERNARY_P128 (passes/packing.h): the x86-64 AVX2 and AVX-512 kernels, Helium's.
  bool row_planes128 = false;
  // Alignment of the weight arrays (matrices, the token table) in bytes: 4 for the word
  // loads of the microcontroller kernels; 64 where the kernels load whole 64-byte rows
  // with vectors (x86-64: a load at a 64-byte boundary never straddles two cache lines).
  int32_t weight_align = 4;
  // Its int8 rows (the classifier; any int8 matrix read row by row) are stored as row pairs in 32-bit words
  // (BG_W_INT8_PAIRS) when the flash has room: SMLAL takes two rows' products at once,
  // 1.25 instructions a weight instead of 2.75 on Armv7-M without DSP, for 2 bytes of
  // flash a weight instead of 1 (and a tied classifier no longer shares the embedding's).
  // The SMLAD row kernel, wherever it runs, widens them to int16 quads instead
  // (BG_W_INT16_QUADS; passes/pipeline.cpp, row_layouts).
  bool int8_row_pairs = false;
  // Its lookup kernel reads table indices stored in 32-bit words (BG_W_TERNARY_LUT4W) when
  // the flash has room: the cores whose costs give that kernel a figure (Thumb-2's LDM).
  bool lut_word_indices() const { return dot.lut_word_per_group > 0; }
  // The host compiler runs it (no cross toolchain, no board): the emitted CMakeLists
  // builds with gcc_flags and the demo program.
  bool native() const { return qemu_board[0] == '\0'; }
};

const std::vector<TargetDesc>& all_targets();
// Throws Error naming the known targets when `name` is not one.
const TargetDesc& find_target(const std::string& name);

}  // namespace bitgpt
