// libFuzzer harness over the whole path: a model.json manifest (the sidecar stays the
// seed model's) is loaded, compiled under options taken from its last byte, emitted as
// C++ (in memory) and run by the interpreter for a few tokens against the reference.
#include "codegen/cpp_emitter.h"
#include "frontend/model_json.h"
#include "interp/interpreter.h"
#include "passes/pipeline.h"
#include "support/diagnostics.h"
#include "tests/fuzz/fuzz_common.h"

using namespace bitgpt;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::write_seed_model();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t n) {
  const std::string path = fuzz::write_file("model.json", data, n);
  const uint8_t knobs = n ? data[n - 1] : 0;
  try {
    const Model m = load_model_json(path);
    if (m.arch.d_model * m.arch.n_layers > 4096 || m.arch.vocab_size > 4096) return 0;  // keep an execution short
    CompileOptions o;
    static const char* const targets[] = {"host", "cortex-m0plus", "cortex-m4", "cortex-m55"};
    o.target = targets[knobs & 3];
    o.kernel = (knobs >> 2 & 1) ? KernelOption::Lut4 : KernelOption::Auto;
    o.kv_bits = (knobs >> 3 & 1) ? 4 : 8;
    if (knobs >> 4 & 1) o.packing = PackingOption::Base3;
    const CompiledModel c = compile_model(m, o);
    emit_cpp(c, {"fuzz.json"});
    Interpreter fused(c);
    const CompiledModel ref_program = reference_program(m, c);
    Interpreter reference(ref_program);
    for (Interpreter* e : {&fused, &reference}) {
      e->reset(1);
      e->feed(static_cast<int32_t>(m.tokenizer.bos));
      for (int i = 0; i < 3; ++i) e->feed(e->next(0));
    }
    if (fused.checksum() != reference.checksum()) __builtin_trap();  // a compiled program that computes something else
  } catch (const Error&) {
  }
  return 0;
}
