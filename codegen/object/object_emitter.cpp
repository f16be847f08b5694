#include "codegen/object/object_emitter.h"

#include <fmt/format.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Verifier.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Target/TargetOptions.h>

#include <mutex>

#include "codegen/cpp_emitter.h"
#include "codegen/object/model_module.h"
#include "support/diagnostics.h"

namespace bitgpt {

namespace {

void initialise_llvm() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeAllTargetInfos();
    llvm::InitializeAllTargets();
    llvm::InitializeAllTargetMCs();
    llvm::InitializeAllAsmPrinters();
    llvm::InitializeAllAsmParsers();  // the DSP kernels' inline assembly
  });
}

// The target machine of the kernels' bitcode: its triple, and the CPU and features clang
// compiled them for (every function of the module carries them).
std::unique_ptr<llvm::TargetMachine> target_machine(const llvm::Module& m, const CompiledModel& c) {
  std::string error;
  const std::string triple = m.getTargetTriple();
  const llvm::Target* target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target) throw Error(fmt::format("--emit obj: LLVM has no target for {} ({}): {}", c.target->name, triple, error));
  const llvm::Function* api = m.getFunction(c.graph.name + "_reset");
  auto attribute = [&](const char* name) {
    return api && api->hasFnAttribute(name) ? api->getFnAttribute(name).getValueAsString().str() : std::string();
  };
  llvm::TargetOptions options;
  options.FunctionSections = true;  // --gc-sections drops what the firmware does not call
  options.DataSections = true;
  // the host's objects go into position-independent executables
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(triple, attribute("target-cpu"), attribute("target-features"), options,
                                                                      c.target->llvm_host() ? llvm::Reloc::PIC_ : llvm::Reloc::Static, std::nullopt,
                                                                      llvm::CodeGenOptLevel::Default));
  if (!tm) throw Error(fmt::format("--emit obj: LLVM cannot generate code for {} ({})", c.target->name, triple));
  return tm;
}

// Everything but the C API becomes internal, then LLVM's standard pipeline specialises the
// kernels for the model's constant arguments and drops what no step calls.
void optimise(llvm::Module& m, const CompiledModel& c, llvm::TargetMachine& tm, ObjectOptimization level) {
  for (llvm::Function& f : m) {
    if (!f.isDeclaration() && !is_api_symbol(c, f.getName().str())) f.setLinkage(llvm::GlobalValue::InternalLinkage);
    // The kernels arrive optimised for speed (clang -O2): for size, every function asks
    // the optimiser and the code generator for small code again.
    if (level == ObjectOptimization::Size && !f.isDeclaration()) {
      f.addFnAttr(llvm::Attribute::OptimizeForSize);
      f.addFnAttr(llvm::Attribute::MinSize);
    }
  }
  for (llvm::GlobalVariable& g : m.globals())
    if (!g.isDeclaration() && !g.getName().starts_with("llvm.")) g.setLinkage(llvm::GlobalValue::InternalLinkage);
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb(&tm);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager mpm =
      pb.buildPerModuleDefaultPipeline(level == ObjectOptimization::Size ? llvm::OptimizationLevel::Os : llvm::OptimizationLevel::O2);
  mpm.run(m, mam);
}

std::string generate(llvm::Module& m, llvm::TargetMachine& tm, ObjectKind kind) {
  std::string out;
  llvm::raw_string_ostream os(out);
  if (kind == ObjectKind::LlvmIr) {
    m.print(os, nullptr);
    return out;
  }
  llvm::SmallVector<char, 0> buffer;
  llvm::raw_svector_ostream stream(buffer);
  llvm::legacy::PassManager pm;
  if (tm.addPassesToEmitFile(pm, stream, nullptr, kind == ObjectKind::Object ? llvm::CodeGenFileType::ObjectFile : llvm::CodeGenFileType::AssemblyFile))
    throw Error("internal error: LLVM cannot write this kind of file for the target");
  pm.run(m);
  return std::string(buffer.data(), buffer.size());
}

}  // namespace

std::map<std::string, std::string> emit_object(const CompiledModel& c, const Provenance& origin, const ObjectOptions& options) {
  const std::string& n = c.graph.name;
  check_model_name_is_free(n);
  if (std::string(c.target->llvm_triple).empty())
    throw Error(fmt::format("--emit {}: target {} has no LLVM triple (no object backend); use --emit cpp",
                            options.kind == ObjectKind::Object ? "obj" : options.kind == ObjectKind::Assembly ? "asm" : "llvm", c.target->name));
  initialise_llvm();
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> m = build_model_module(context, c, origin, options.sections);
  std::string broken;
  llvm::raw_string_ostream why(broken);
  if (llvm::verifyModule(*m, &why)) throw Error("internal error: the object backend built an invalid module: " + broken);
  std::unique_ptr<llvm::TargetMachine> tm = target_machine(*m, c);
  m->setDataLayout(tm->createDataLayout());
  optimise(*m, c, *tm, options.optimization);

  std::map<std::string, std::string> files;
  files[n + ".h"] = emit_api_header(c, origin, &options.sections);
  const char* suffix = options.kind == ObjectKind::Object ? ".o" : options.kind == ObjectKind::Assembly ? ".s" : ".ll";
  files[n + suffix] = generate(*m, *tm, options.kind);
  if (options.kind != ObjectKind::Object) return files;  // for reading, not building
  // An object for another machine links into that machine's firmware only: no host demo.
  add_project_files(c, origin, n + ".o", "../" + n + ".o", c.target->llvm_host(), files);
  return files;
}

}  // namespace bitgpt
