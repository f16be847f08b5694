// The object backend alone: the sections and sizes of what it writes, read back from the
// ELF object with objdump, and its refusals. Whether the object computes the interpreter's
// integers is the end-to-end tests' job (tests/e2e/compile_and_compare.sh, every board).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "codegen/object/object_emitter.h"
#include "passes/pipeline.h"
#include "support/diagnostics.h"
#include "tests/tools/random_model.h"

namespace bitgpt {
namespace {

namespace fs = std::filesystem;

Model small_model() {
  RandomModelSpec s = small_spec("objmodel");
  s.arch.vocab_size = 400;  // BPE: a prompt buffer in the state section
  s.tokenizer = "bpe";
  return random_model(s);
}

// Section name -> size in bytes, from `objdump -h` of an object.
std::map<std::string, int64_t> section_sizes(const std::string& object) {
  const fs::path dir = fs::temp_directory_path() / ("bitgpt_object_" + std::to_string(getpid()));
  fs::create_directories(dir);
  const fs::path file = dir / "model.o";
  std::ofstream(file, std::ios::binary) << object;
  std::map<std::string, int64_t> sizes;
  FILE* p = popen(fmt::format("objdump -h '{}'", file.string()).c_str(), "r");
  char line[512];
  while (p && fgets(line, sizeof line, p)) {
    std::istringstream words(line);
    std::string index, name, size;
    if (words >> index >> name >> size && !index.empty() && std::isdigit(static_cast<unsigned char>(index[0])))
      sizes[name] += std::stoll(size, nullptr, 16);
  }
  if (p) pclose(p);
  fs::remove_all(dir);
  return sizes;
}

// Every RAM part in the section it was given, of exactly the size the plan counts.
TEST(ObjectEmitter, PlacesEachPartInItsSectionAtThePlannedSize) {
  const CompiledModel c = compile_model(small_model(), {});
  ObjectOptions o;
  o.sections = {".flash_model", ".ram_arena", ".ram_kv", ".ram_state"};
  const auto files = emit_object(c, {"random"}, o);
  ASSERT_TRUE(files.count("objmodel.o") && files.count("objmodel.h") && files.count("demo/objmodel_demo.cpp"));
  EXPECT_NE(files.at("objmodel.h").find("the arena in .ram_arena"), std::string::npos);
  const auto sizes = section_sizes(files.at("objmodel.o"));
  EXPECT_EQ(sizes.at(".ram_arena"), std::max<int64_t>(c.arena.bytes, 8));
  EXPECT_EQ(sizes.at(".ram_kv"), c.fit.cost.kv_cache);
  EXPECT_EQ(sizes.at(".ram_state"), c.fit.cost.state + c.fit.cost.prompt);  // state_t and the BPE prompt buffer
  EXPECT_GE(sizes.at(".flash_model"), c.weights_flash_bytes() - 1024);  // the constants (the struct descriptors may sit elsewhere)
}

TEST(ObjectEmitter, AssemblyAndIrAreForReading) {
  const CompiledModel c = compile_model(small_model(), {});
  ObjectOptions o;
  o.kind = ObjectKind::Assembly;
  const auto assembly = emit_object(c, {"random"}, o);
  EXPECT_TRUE(assembly.count("objmodel.s") && !assembly.count("CMakeLists.txt"));
  EXPECT_NE(assembly.at("objmodel.s").find("objmodel_feed:"), std::string::npos);
  o.kind = ObjectKind::LlvmIr;
  const auto ir = emit_object(c, {"random"}, o);
  EXPECT_NE(ir.at("objmodel.ll").find("define i32 @objmodel_next(i32"), std::string::npos);
}

TEST(ObjectEmitter, RefusesATargetWithoutAnLlvmTriple) {
  CompiledModel c = compile_model(small_model(), {});
  TargetDesc no_llvm = *c.target;
  no_llvm.name = "no-llvm-board";
  no_llvm.llvm_triple = "";
  c.target = &no_llvm;
  try {
    emit_object(c, {"random"}, {});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("target no-llvm-board has no LLVM triple"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bitgpt
