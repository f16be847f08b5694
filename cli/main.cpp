// bitgptc: the command-line driver.
//   bitgptc MODEL [--target T] [--sram SIZE] [-o DIR] [--report-json FILE] ...
//   bitgptc run MODEL --prompt TEXT -n N [--temperature T] [--seed S] [same options]
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>

#include "codegen/cpp_emitter.h"
#include "codegen/report.h"
#include "frontend/load_model.h"
#include "frontend/quantize.h"
#include "interp/evaluate.h"
#include "interp/generate.h"
#include "interp/interpreter.h"
#include "passes/pass_manager.h"
#include "passes/pipeline.h"
#include "support/diagnostics.h"
#include "support/output_files.h"
#include "support/size_parse.h"
#include "support/text.h"

namespace {

using namespace bitgpt;

// Options shared by compilation and `run`, so that `run` reproduces the emitted plan.
struct PlanArgs {
  std::string model, tokenizer, quantize, name;
  std::string target = "host";
  std::string sram, flash;
  int kv_bits = 0, lut_chunk = 0;
  int64_t window = 0, max_prompt_bytes = -1;  // -1: not given
  KernelOption kernel = KernelOption::Auto;
  PackingOption packing = PackingOption::Auto;
  std::vector<std::string> disabled;

  void add_to(CLI::App& app) {
    app.add_option("model", model, "model.json (docs/model-format.md), or a llama2.c / bitllama2.c .bin checkpoint")->required();
    app.add_option("--tokenizer", tokenizer, "tokenizer.bin of a llama2.c checkpoint");
    app.add_option("--name", name, "the model's name in the emitted code (NAME.h, NAME_feed, ...); default: the manifest's, or the file's");
    app.add_option("--quantize", quantize, "ternary: ternarise every layer matrix (absmean, per matrix) after loading")
        ->check(CLI::IsMember({"ternary"}));
    std::string targets;
    for (const TargetDesc& t : all_targets()) targets += std::string(targets.empty() ? "" : ", ") + t.name;
    app.add_option("--target", target, "target: " + targets)->capture_default_str();
    app.add_option("--sram", sram, "SRAM budget (8K, 8KiB, 8192, 0x2000); default: the target's");
    app.add_option("--flash", flash, "flash budget; default: the target's");
    app.add_option("--kv-bits", kv_bits, "pin the KV-cache precision: 8 or 4");
    app.add_option("--window", window, "pin the attention window (KV-cache slots)");
    app.add_option("--kernel", kernel,
                   "matrix kernel: auto (a cost model picks per product: the row kernel, or lookup tables where they pay and fit), "
                   "portable (plain C), smlad (Armv7E-M DSP), mve (Helium) or lut4 (lookup tables everywhere)")
        ->transform(CLI::CheckedTransformer(std::map<std::string, KernelOption>{{"auto", KernelOption::Auto},
                                                                                 {"portable", KernelOption::Portable},
                                                                                 {"smlad", KernelOption::Smlad},
                                                                                 {"mve", KernelOption::Mve},
                                                                                 {"lut4", KernelOption::Lut4}}));
    app.add_option("--lut-chunk", lut_chunk, "with --kernel lut4: groups of 4 inputs per table chunk (default: the largest that leaves a useful window)");
    app.add_option("--max-prompt-bytes", max_prompt_bytes,
                   fmt::format("BPE tokenizers: the longest prompt the planned encoding buffer holds (default {})", kDefaultMaxPromptBytes));
    app.add_option("--packing", packing, "ternary weights in flash: auto, 2bit or base3 (1.6 bits per weight)")
        ->transform(CLI::CheckedTransformer(
            std::map<std::string, PackingOption>{{"auto", PackingOption::Auto}, {"2bit", PackingOption::TwoBit}, {"base3", PackingOption::Base3}}));
    std::string passes;
    for (const PassInfo& p : optimization_passes()) passes += fmt::format("\n  {:<20} {}", p.name, p.what);
    app.add_option("--disable-pass", disabled, "switch a pass off (repeatable):" + passes);
  }

  Model load() const {
    Model m = load_model(model, tokenizer);
    if (!name.empty()) {
      if (!is_c_identifier(name, 48)) throw Error(fmt::format("--name: '{}' is not a C identifier of at most 48 characters", name));
      m.name = name;
    }
    if (quantize == "ternary") ternarize_matrices(m);
    return m;
  }

  CompileOptions options() const {
    CompileOptions o;
    o.target = target;
    if (!sram.empty()) o.sram = parse_size(sram, "--sram");
    if (!flash.empty()) o.flash = parse_size(flash, "--flash");
    if (kv_bits != 0) o.kv_bits = kv_bits;
    if (window != 0) o.window = window;
    o.kernel = kernel;
    o.packing = packing;
    if (lut_chunk != 0) o.lut_chunk = lut_chunk;
    if (max_prompt_bytes != -1) o.max_prompt_bytes = max_prompt_bytes;
    o.disabled_passes.insert(disabled.begin(), disabled.end());
    return o;
  }
};

int compile_main(int argc, char** argv) {
  CLI::App app{"bitgptc: compiles ternary and binary GPT models into self-contained C++ for microcontrollers"};
  app.footer("Also: bitgptc run MODEL --prompt TEXT -n N       generate with the reference interpreter\n"
             "      bitgptc eval MODEL --text FILE | --reference-tokens FILE   measure quality under the plan");
  PlanArgs plan;
  plan.add_to(app);
  std::string out_dir, report_path;
  bool quiet = false;
  const CLI::Option* output = app.add_option("-o,--output", out_dir, "write the emitted C++ and a host demo into this directory");
  app.add_option("--report-json", report_path, "write the memory plan as JSON (docs/report.md); - for standard output (then no text plan)");
  app.add_flag("-q,--quiet", quiet, "do not print the memory plan");
  CLI11_PARSE(app, argc, argv);

  const Model model = plan.load();
  const CompiledModel compiled = compile_model(model, plan.options());
  // Everything is generated before anything is written: a failure leaves no output.
  std::map<std::string, std::string> files;
  const bool emit = output->count() > 0;
  if (emit && out_dir.empty()) throw Error("-o: the output folder is an empty path");
  if (emit) files = emit_cpp(compiled, std::filesystem::path(plan.model).filename().string());
  // The report's destination is checked (and a regular file's temporary written) first:
  // a bad report path fails before the output folder is touched.
  std::optional<PendingFile> report;
  if (!report_path.empty()) report.emplace(report_path, report_json(compiled));
  if (emit) write_output_dir(out_dir, files);
  if (report) report->commit();
  quiet = quiet || report_path == "-";
  if (!quiet) std::cout << format_report(compiled);
  if (emit && !quiet) std::cout << fmt::format("\nwrote {} files to {}\n", files.size(), out_dir);
  return 0;
}

int run_main(int argc, char** argv) {
  CLI::App app{"bitgptc run: generate text with the reference interpreter, under the plan a compilation would choose"};
  PlanArgs plan;
  plan.add_to(app);
  std::string prompt, temperature = "0";
  int64_t tokens = 64;
  uint64_t seed = 0;
  app.add_option("--prompt", prompt, "text to start from (default: empty)");
  app.add_option("-n,--tokens", tokens, "tokens to generate")->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--temperature", temperature, "0 for greedy, else sample at this temperature")->capture_default_str();
  app.add_option("--seed", seed, "sampler seed")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const Model model = plan.load();
  const CompiledModel compiled = compile_model(model, plan.options());
  if (compiled.max_prompt_bytes && static_cast<int64_t>(prompt.size()) > compiled.max_prompt_bytes)
    throw Error(fmt::format("--prompt: {} bytes is longer than the {} the planned BPE prompt buffer holds (--max-prompt-bytes)", prompt.size(),
                            compiled.max_prompt_bytes));
  GenerateOptions g;
  g.prompt = prompt;
  g.tokens = tokens;
  g.temperature_q16 = parse_temperature(temperature);
  g.seed = seed;
  const CompiledModel reference = reference_program(model, compiled);
  Interpreter interp(reference);
  const GenerateResult r = generate(interp, model.tokenizer, g);
  std::cout << r.text << "\n" << fmt::format("logits-checksum: {:016x}\n", r.checksum);
  if (r.context_full) std::cerr << fmt::format("note: stopped at position {}, the model's max_seq_len (learned positions)\n", model.arch.max_seq_len);
  return 0;
}

int eval_main(int argc, char** argv) {
  CLI::App app{"bitgptc eval: what the compiled integer pipeline costs in quality, under the plan a compilation would choose"};
  PlanArgs plan;
  plan.add_to(app);
  std::string text_path, reference_path;
  int64_t max_tokens = 20000, segment = 0;
  auto* text = app.add_option("--text", text_path, "average loss on this UTF-8 text");
  auto* ref = app.add_option("--reference-tokens", reference_path, "top-1 agreement with these whitespace-separated ids (the first is the start token)");
  text->excludes(ref);
  app.add_option("--max-tokens", max_tokens, "evaluate at most this many tokens of the text")->capture_default_str();
  app.add_option("--segment", segment, "tokens per segment, each started afresh with BOS (default: max_seq_len)");
  CLI11_PARSE(app, argc, argv);
  if (text_path.empty() && reference_path.empty()) throw Error("eval: give --text FILE or --reference-tokens FILE");

  const Model model = plan.load();
  const CompiledModel compiled = compile_model(model, plan.options());
  const CompiledModel reference = reference_program(model, compiled);
  std::cout << fmt::format("plan: window {}, {}-bit KV cache, target {}, SRAM {} of {} bytes\n", compiled.fit.window, compiled.fit.kv_bits,
                           compiled.target->name, compiled.fit.cost.total(), compiled.sram_budget);
  if (!text_path.empty()) {
    std::ifstream in(text_path, std::ios::binary);
    if (!in) throw Error(text_path + ": cannot open the text");
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    const LossResult r = evaluate_loss(reference, text, segment > 0 ? segment : model.arch.max_seq_len, max_tokens);
    std::cout << fmt::format("tokens: {}\ncharacters: {}\nloss-nats-per-token: {:.4f}\nbits-per-char: {:.4f}\n", r.tokens, r.bytes,
                             r.nats_per_token(), r.bits_per_char());
  } else {
    const AgreementResult r = evaluate_agreement(reference, read_token_ids(reference_path, model.arch.vocab_size));
    std::cout << fmt::format("compared: {}\nagreed: {}\ntop1-agreement: {:.4f}\n", r.compared, r.agreed, r.fraction());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc > 1 && std::string(argv[1]) == "run") return run_main(argc - 1, argv + 1);
    if (argc > 1 && std::string(argv[1]) == "eval") return eval_main(argc - 1, argv + 1);
    return compile_main(argc, argv);
  } catch (const bitgpt::Error& e) {
    std::cerr << "bitgptc: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "bitgptc: error: " << e.what() << "\n";
    return 1;
  }
}
