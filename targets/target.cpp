#include "targets/target.h"

#include "support/diagnostics.h"

namespace bitgpt {

const std::vector<TargetDesc>& all_targets() {
  constexpr int64_t K = 1024;
  // Kernel costs (instructions; DotCosts): row kernel per weight, plain-C row kernel per
  // weight, per row; lookup per group, per row and chunk (in a loop, and as straight code),
  // table build per group, and the
  // tests of a chunk's last lookups per row and chunk. Read with bench/loop_profile.py
  // from profiles of the shipped example (--kernel portable and lut4 builds) on cortex-m3
  // (plain C), cortex-m4 (SMLAD, and the lookup figures of every Thumb-2 core: the same
  // assembly; M7 and M33 run the same SMLAD assembly), cortex-m55 (Helium) and rv32imac,
  // and of a small model on cortex-m0plus (the example does not fit its flash). Plain C
  // takes two 2-bit rows a pass. The host runs the C forms (no Thumb-2 assembly); its
  // instruction counts are not something anyone measures.
  // Armv6-M: the general chunk form everywhere (bitgpt_lut.h), its tests in the 25; a
  // lookup 51 instructions a pass of 16 groups since the indices are byte offsets (was 35
  // per 8, a shift each; small_m0 --kernel lut4); the other figures predate the lookup
  // kernel's last changes (its C form changed little).
  constexpr DotCosts armv6m = {6.25, 6.25, 25, 3.2, 25, 25, 220, 0};
  // Thumb-2 lookups: 47 instructions per pass of 16 groups in assembly, with the loop
  // 51; per row and chunk 8 (passes in a loop), 2 for straight chunks (52 instructions for
  // two rows of 8 groups, or a w1 and w3 row pair of 4, the pointers and partial sums
  // stepped by the loads and stores); the table build 75 a group (one block of assembly
  // with the block's words kept in r8-r12; 102 before, 110 before its loop of one
  // pointer); tested last lookups ~10 more a row.
  // Word indices (BG_W_TERNARY_LUT4W): 35 instructions a row of 16 groups where halfword
  // indices take 47 (four LDMs, 16 table loads, 15 adds).
  constexpr DotCosts plain_c = {3.13, 3.13, 22, 3.0, 8, 2, 75, 10, 2.2};
  constexpr DotCosts smlad = {1.53, 3.13, 12, 3.0, 8, 2, 75, 10, 2.2};
  constexpr DotCosts helium = {0.41, 3.13, 8, 3.0, 8, 2, 75, 10, 2.2};
  // The host runs the C forms: plain C's figures, and no word indices (no LDM kernel).
  constexpr DotCosts host_c = {3.13, 3.13, 22, 3.0, 8, 2, 75, 10};
  // RV32: no scaled-index load and no bit-field extract, so lookups and 2-bit fields cost
  // more than on Thumb-2.
  // rv32imac, --kernel lut4: 69 instructions a row for one chunk of 16 groups, 138 for the
  // FFN's two rows (85 and 175 before the indices were byte offsets, which spared the
  // shift of each index); the build 134 a group.
  constexpr DotCosts rv32 = {5.25, 5.25, 30, 4.0, 8, 8, 134, 10};
  // AVX2: the plain C row kernel is bitgpt_avx2.h's there, about 15 instructions per 32
  // weights (not counted: set so that the cost model prefers it to the lookup tables, as
  // the clock does, bench/host_vs_llama_cpp.sh). AVX-512 VNNI takes the same figures: only
  // the order of row kernels and lookup tables matters there, and it is the same.
  constexpr DotCosts avx2 = {0.5, 0.5, 20, 3.4, 17, 17, 128, 10};
  static const std::vector<TargetDesc> targets = {
      // name, description, gcc flags, QEMU board, flash origin, RAM origin, board flash, board RAM,
      // dsp, mve, fpu, default SRAM, default flash, stack reserve, code base, code per step,
      // kernel costs, typical clock (MHz), LLVM triple
      {"host", "the build machine", "", "", 0, 0, 0, 0,
       false, false, true, 1024 * K, 64 * 1024 * K, 4 * K, 48 * K, 512, host_c, 0, "host"},
      {"x86-64-v3", "the build machine, x86-64 with AVX2 (x86-64-v3: Haswell, Zen and later)", "-march=x86-64-v3", "", 0, 0, 0, 0,
       false, false, true, 1024 * K, 64 * 1024 * K, 4 * K, 48 * K, 512, avx2, 0, "host", "", "", "", "x86_64", true, 64},
      {"x86-64-avx512vnni", "the build machine, x86-64 with AVX-512 and VNNI (x86-64-v4 + AVX512-VNNI: Ice Lake, Zen 4 and later)",
       "-march=x86-64-v4 -mavx512vnni", "", 0, 0, 0, 0,
       false, false, true, 1024 * K, 64 * 1024 * K, 4 * K, 48 * K, 512, avx2, 0, "host", "", "", "", "x86_64", true, 64},
      {"cortex-m0plus", "Arm Cortex-M0+ (Armv6-M); runs on QEMU's micro:bit, a Cortex-M0",
       "-mcpu=cortex-m0plus -mthumb -mfloat-abi=soft", "microbit", 0x00000000, 0x20000000, 256 * K, 16 * K,
       false, false, false, 16 * K, 256 * K, 1024, 33 * K, 210, armv6m, 48, "thumbv6m-none-eabi"},
      {"cortex-m3", "Arm Cortex-M3 (Armv7-M)", "-mcpu=cortex-m3 -mthumb -mfloat-abi=soft", "mps2-an385", 0x00000000, 0x20000000, 4096 * K, 4096 * K,
       false, false, false, 64 * K, 1024 * K, 640, 35 * K, 205, plain_c, 100, "thumbv7m-none-eabi", "arm-none-eabi-",
       "--specs=nano.specs", "qemu-system-arm", "", false, 4, true},
      {"cortex-m4", "Arm Cortex-M4F (Armv7E-M)", "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16", "mps2-an386",
       0x00000000, 0x20000000, 4096 * K, 4096 * K, true, false, true, 128 * K, 1024 * K, 640, 41 * K, 205, smlad, 168, "thumbv7em-none-eabihf"},
      {"cortex-m4-nofpu", "Arm Cortex-M4 without FPU (Armv7E-M)", "-mcpu=cortex-m4+nofp -mthumb -mfloat-abi=soft", "mps2-an386",
       0x00000000, 0x20000000, 4096 * K, 4096 * K, true, false, false, 128 * K, 1024 * K, 640, 41 * K, 205, smlad, 80, "thumbv7em-none-eabi"},
      {"cortex-m7", "Arm Cortex-M7 (Armv7E-M)", "-mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16", "mps2-an500",
       0x00000000, 0x20000000, 4096 * K, 4096 * K, true, false, true, 512 * K, 2048 * K, 640, 41 * K, 205, smlad, 480, "thumbv7em-none-eabihf"},
      {"cortex-m33", "Arm Cortex-M33 (Armv8-M Mainline)", "-mcpu=cortex-m33 -mthumb -mfloat-abi=hard -mfpu=fpv5-sp-d16", "mps2-an505",
       0x10000000, 0x38000000, 4096 * K, 2048 * K, true, false, true, 256 * K, 1024 * K, 640, 41 * K, 205, smlad, 110, "thumbv8m.main-none-eabihf"},
      {"cortex-m55", "Arm Cortex-M55 (Armv8.1-M, Helium)", "-mcpu=cortex-m55 -mthumb -mfloat-abi=hard", "mps3-an547",
       0x00000000, 0x20000000, 512 * K, 512 * K, true, true, true, 512 * K, 512 * K, 704, 31 * K + 512, 205, helium, 160, "thumbv8.1m.main-none-eabihf",
       "arm-none-eabi-", "--specs=nano.specs", "qemu-system-arm", "", true},
      // RISC-V: the FE310 of the HiFive1, as QEMU's sifive_e (flash mapped at 0x20000000, the
      // reset vector jumps to 0x20400000; 16 KiB of RAM); picolibc; no linker relaxation (-mno-relax), so
      // that startup.c need not set up the global pointer.
      {"rv32imac", "RISC-V RV32IMAC (SiFive FE310)", "-march=rv32imac -mabi=ilp32 -mno-relax", "sifive_e", 0x20400000, 0x80000000, 4096 * K, 16 * K,
       false, false, false, 16 * K, 1024 * K, 640, 35 * K + 512, 210, rv32, 320, "riscv32-unknown-elf",
       "riscv64-unknown-elf-", "--specs=picolibc.specs", "qemu-system-riscv32"},
      {"rv32imc", "RISC-V RV32IMC (no atomics; runs on QEMU's sifive_e)", "-march=rv32imc -mabi=ilp32 -mno-relax", "sifive_e", 0x20400000, 0x80000000,
       4096 * K, 16 * K, false, false, false, 16 * K, 1024 * K, 640, 35 * K + 512, 210, rv32, 320, "riscv32-unknown-elf",
       "riscv64-unknown-elf-", "--specs=picolibc.specs", "qemu-system-riscv32"},
  };
  // rows for another build machine's architecture are not offered here
#if defined(__x86_64__)
  constexpr const char* build_arch = "x86_64";
#else
  constexpr const char* build_arch = "";
#endif
  static const std::vector<TargetDesc> offered = [] {
    std::vector<TargetDesc> v;
    for (const TargetDesc& t : targets)
      if (t.build_arch[0] == '\0' || std::string(t.build_arch) == build_arch) v.push_back(t);
    return v;
  }();
  return offered;
}

const TargetDesc& find_target(const std::string& name) {
  std::string names;
  for (const TargetDesc& t : all_targets()) {
    if (name == t.name) return t;
    names += std::string(names.empty() ? "" : ", ") + t.name;
  }
  throw Error("--target: unknown target '" + name + "'; targets are " + names);
}

}  // namespace bitgpt
