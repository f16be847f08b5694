// The C++ backend, fast: small models emitted for the host, built with the host compiler
// under the flags the emitted CMakeLists.txt uses, run as the emitted demo, and compared
// with the interpreter running the reference program. Seconds, no QEMU; the end-to-end
// tests (tests/e2e) do the same for every board.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "codegen/cpp_emitter.h"
#include "interp/generate.h"
#include "interp/interpreter.h"
#include "passes/pipeline.h"
#include "support/output_files.h"
#include "tests/tools/random_model.h"

namespace bitgpt {
namespace {

namespace fs = std::filesystem;

std::string run_command(const std::string& command, int& status) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (!p) return out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  status = pclose(p);
  return out;
}

RandomModelSpec small(const char* name) { return small_spec(name); }

struct Case {
  const char* what;
  RandomModelSpec spec;
  CompileOptions options;
};

class EmitterOnHost : public ::testing::TestWithParam<int> {};

Case make_case(int i) {
  Case c{"", small("emit"), {}};
  c.options.window = 12;
  switch (i) {
    case 0: c.what = "ternary, cost model"; break;
    case 1: c.what = "ternary, lookup tables in chunks"; c.options.kernel = KernelOption::Lut4; c.options.lut_chunk = 3; break;
    case 2: c.what = "ternary, base-3 packing"; c.options.packing = PackingOption::Base3; break;
    case 3:
      c.what = "int8 per-row, learned positions, no passes";
      c.spec.matrix_dtype = WeightDType::Int8;
      c.spec.per_row = true;
      c.spec.arch.positions = Positions::Learned;
      c.options.disabled_passes = {"fuse-norm-quantize", "fuse-residual", "fuse-ffn", "fuse-attention", "fuse-classifier", "fuse-shared-input", "inplace"};
      break;
    case 5:
      c.what = "ternary, the caller's memory";
      c.options.memory = MemoryOption::Caller;
      break;
    case 4:
      c.what = "binary, BPE tokenizer";
      c.spec.matrix_dtype = WeightDType::Binary;
      c.spec.tokenizer = "bpe";
      c.spec.arch.vocab_size = 400;
      break;
  }
  return c;
}

TEST_P(EmitterOnHost, EmittedCodeMatchesTheInterpreter) {
  const Case k = make_case(GetParam());
  const Model m = random_model(k.spec);
  const CompiledModel c = compile_model(m, k.options);
  const fs::path dir = fs::temp_directory_path() / ("bitgpt_emitter_test_" + std::to_string(getpid()) + "_" + std::to_string(GetParam()));
  fs::remove_all(dir);
  write_output_dir(dir.string(), emit_cpp(c, {"random"}));

  const std::string n = c.graph.name;
  int status = 0;
  const std::string build = fmt::format(
      "cd '{0}' && {1} -std=c++17 -O1 -Wall -Wextra -Werror -fno-exceptions -fno-rtti -I. {2}.cpp {2}_weights.cpp demo/{2}_demo.cpp -o demo_program 2>&1",
      dir.string(), BITGPT_HOST_CXX, n);
  const std::string build_log = run_command(build, status);
  ASSERT_EQ(status, 0) << k.what << "\n" << build_log;

  GenerateOptions g;
  g.prompt = "the cat";
  g.tokens = 24;
  g.temperature_q16 = 40000;
  g.seed = 5;
  const std::string demo = run_command(fmt::format("cd '{}' && ./demo_program --prompt '{}' -n {} --temperature 0.6103515625 --seed {}", dir.string(), g.prompt,
                                                   g.tokens, g.seed),
                                       status);
  ASSERT_EQ(status, 0) << k.what << "\n" << demo;

  const CompiledModel reference = reference_program(m, c);
  Interpreter interp(reference);
  const GenerateResult r = generate(interp, m.tokenizer, g);
  EXPECT_EQ(demo, r.text + "\n" + fmt::format("logits-checksum: {:016x}\n", r.checksum)) << k.what;
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Models, EmitterOnHost, ::testing::Range(0, 6));

// The memory contract: BITGPT_ARENA_SECTION, BITGPT_KV_SECTION and BITGPT_STATE_SECTION
// put the arena, the KV cache and the state (with the prompt buffer) where the user says.
TEST(EmitterMemory, SectionMacrosPlaceEachPart) {
  RandomModelSpec spec = small("placed");
  spec.tokenizer = "bpe";
  spec.arch.vocab_size = 400;
  const Model m = random_model(spec);
  const CompiledModel c = compile_model(m, {});
  const fs::path dir = fs::temp_directory_path() / ("bitgpt_sections_" + std::to_string(getpid()));
  fs::remove_all(dir);
  write_output_dir(dir.string(), emit_cpp(c, {"random"}));
  int status = 0;
  const std::string build = run_command(
      fmt::format("cd '{}' && {} -std=c++17 -O1 -Wall -Wextra -Werror -fno-exceptions -fno-rtti -I. -c {}.cpp -o model.o "
                  "'-DBITGPT_ARENA_SECTION=__attribute__((section(\".ram_arena\")))' '-DBITGPT_KV_SECTION=__attribute__((section(\".ram_kv\")))' "
                  "'-DBITGPT_STATE_SECTION=__attribute__((section(\".ram_state\")))' 2>&1 && objdump -t model.o",
                  dir.string(), BITGPT_HOST_CXX, c.graph.name),
      status);
  ASSERT_EQ(status, 0) << build;
  auto section_of = [&](const std::string& symbol) {
    std::istringstream lines(build);
    std::string line;
    while (std::getline(lines, line)) {
      // the symbol's name is the last word; an optimiser may split a struct into sym.0, sym.1 ...
      const std::string name = line.substr(line.find_last_of(' ') + 1);
      if (name == symbol || (name.rfind(symbol + ".", 0) == 0)) {
        std::istringstream words(line.substr(17));
        std::string flags, section;
        words >> flags >> section;
        if (section.rfind(".ram", 0) != 0) words >> section;  // the flags column may hold two words
        return section;
      }
    }
    return std::string("(not found)");
  };
  EXPECT_EQ(section_of("_ZN12_GLOBAL__N_15arenaE"), ".ram_arena") << build;
  EXPECT_EQ(section_of("_ZN12_GLOBAL__N_14kv_kE"), ".ram_kv") << build;
  EXPECT_EQ(section_of("_ZN12_GLOBAL__N_110kv_v_scaleE"), ".ram_kv") << build;
  EXPECT_EQ(section_of("_ZN12_GLOBAL__N_12stE"), ".ram_state") << build;
  EXPECT_EQ(section_of("_ZN12_GLOBAL__N_113prompt_tokensE"), ".ram_state") << build;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace bitgpt
