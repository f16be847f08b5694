// bitgptc: the command-line driver.
//   bitgptc MODEL [--target T] [--sram SIZE] [-o DIR] [--report-json FILE] ...
//   bitgptc run MODEL --prompt TEXT -n N [--temperature T] [--seed S] [same options]
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "codegen/cpp_emitter.h"
#include "codegen/firmware_emitter.h"
#include "codegen/object/object_emitter.h"
#include "codegen/report.h"
#include "frontend/gguf.h"
#include "frontend/hf_folder.h"
#include "frontend/load_model.h"
#include "frontend/model_json.h"
#include "frontend/quantize.h"
#include "interp/evaluate.h"
#include "interp/generate.h"
#include "interp/interpreter.h"
#include "interp/plan_quality.h"
#include "passes/pass_manager.h"
#include "passes/pipeline.h"
#include "support/diagnostics.h"
#include "support/input_files.h"
#include "support/output_files.h"
#include "support/text.h"

namespace {

using namespace bitgpt;

// A whole number that fits its type: CLI11 would otherwise saturate an overlong one
// (99999999999999999999 becoming 2^63 - 1) or wrap a negative one into an unsigned.
CLI::Validator whole_number(bool is_unsigned) {
  return CLI::Validator(
      [is_unsigned](std::string& text) -> std::string {
        const bool negative = !text.empty() && text[0] == '-';
        const std::string digits = negative ? text.substr(1) : text;
        const bool ok = !digits.empty() && digits.find_first_not_of("0123456789") == std::string::npos && !(negative && is_unsigned);
        const char* limit = is_unsigned ? "18446744073709551615" : negative ? "9223372036854775808" : "9223372036854775807";
        const std::string trimmed = digits.substr(std::min(digits.find_first_not_of('0'), digits.size() - 1));
        const bool fits = trimmed.size() < std::strlen(limit) || (trimmed.size() == std::strlen(limit) && trimmed <= limit);
        if (!ok) return "'" + text + "' is not a whole number" + (is_unsigned ? " >= 0" : "");
        if (!fits) return "'" + text + "' is too large";
        return "";
      },
      is_unsigned ? "UINT64" : "INT");
}

// A choice among named values (an enum option): the text becomes the value's number,
// which CLI11 then stores; anything else is "'x' is not one of a, b, c".
template <typename E>
CLI::Validator one_of(const std::map<std::string, E>& names) {
  std::string list;
  for (const auto& entry : names) list += (list.empty() ? "" : ", ") + entry.first;
  return CLI::Validator(
      [names, list](std::string& text) -> std::string {
        const auto it = names.find(text);
        if (it == names.end()) return "'" + text + "' is not one of " + list;
        text = std::to_string(static_cast<int>(it->second));
        return "";
      },
      "{" + list + "}");
}

// Parses the command line; on --help or --version, or a malformed command line (exit 2,
// "bitgptc: error: ..." like every other error), the exit status the caller returns.
std::optional<int> parse(CLI::App& app, int argc, char** argv) {
  app.set_version_flag("--version", "bitgptc " BITGPT_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version
  } catch (const CLI::ParseError& e) {
    std::cerr << "bitgptc: error: " << e.what() << "\n(bitgptc --help lists the options)\n";
    return 2;
  }
  return std::nullopt;
}

// Options shared by compilation and `run`, so that `run` reproduces the emitted plan.
struct PlanArgs {
  std::string model, tokenizer, quantize, name;
  std::string target = "host";
  int64_t sram = 0, flash = 0, window = 0, max_prompt_bytes = 0;
  int kv_bits = 0, lut_chunk = 0;
  // Given or not: a value of 0 is an error for the pipeline to name, never "not given".
  CLI::Option *sram_opt = nullptr, *flash_opt = nullptr, *window_opt = nullptr, *max_prompt_opt = nullptr, *kv_opt = nullptr,
              *lut_opt = nullptr;
  KernelOption kernel = KernelOption::Auto;
  PackingOption packing = PackingOption::Auto;
  MemoryOption memory = MemoryOption::Static;
  std::vector<std::string> disabled;
  std::string calibration;
  double max_loss_increase = 0.5;
  CLI::Option* max_loss_opt = nullptr;
  std::optional<PlanChoice> choice;  // with --calibration: the candidates measured

  void add_to(CLI::App& app) {
    app.add_option("model", model, "model.json (docs/model-format.md), a GGUF file, a Hugging Face folder (config.json + safetensors + tokenizer.json), or a llama2.c / bitllama2.c .bin checkpoint")->required();
    app.add_option("--tokenizer", tokenizer, "tokenizer.bin of a llama2.c checkpoint");
    app.add_option("--name", name, "the model's name in the emitted code (NAME.h, NAME_feed, ...); default: the manifest's, or the file's");
    app.add_option("--quantize", quantize, "ternary: ternarise every layer matrix (absmean, per matrix) after loading")
        ->check(CLI::IsMember({"ternary"}));
    std::string targets;
    for (const TargetDesc& t : all_targets()) targets += std::string(targets.empty() ? "" : ", ") + t.name;
    app.add_option("--target", target, "target: " + targets)->capture_default_str();
    const CLI::Range size_range(int64_t{1}, int64_t{1} << 40);
    sram_opt = app.add_option("--sram", sram, "SRAM budget (8K, 8KiB, 8192, 0x2000); default: the target's")
                   ->transform(CLI::AsSizeValue(false))
                   ->check(size_range);
    flash_opt = app.add_option("--flash", flash, "flash budget; default: the target's")->transform(CLI::AsSizeValue(false))->check(size_range);
    kv_opt = app.add_option("--kv-bits", kv_bits, "pin the KV-cache precision: 8 or 4")->check(whole_number(false));
    window_opt = app.add_option("--window", window, "pin the attention window (KV-cache slots)")->check(whole_number(false));
    app.add_option("--kernel", kernel,
                   "matrix kernel: auto (a cost model picks per product: the row kernel, or lookup tables where they save at least 5 % and fit), "
                   "portable (plain C), smlad (Armv7E-M DSP), mve (Helium) or lut4 (lookup tables everywhere)")
        ->transform(one_of(std::map<std::string, KernelOption>{{"auto", KernelOption::Auto},
                                                                                 {"portable", KernelOption::Portable},
                                                                                 {"smlad", KernelOption::Smlad},
                                                                                 {"mve", KernelOption::Mve},
                                                                                 {"lut4", KernelOption::Lut4}}));
    lut_opt = app.add_option("--lut-chunk", lut_chunk, "with --kernel lut4: groups of 4 inputs per table chunk, at most 364 (default: the largest that leaves a useful window)")
                  ->check(whole_number(false));
    max_prompt_opt = app.add_option("--max-prompt-bytes", max_prompt_bytes,
                                    fmt::format("BPE tokenizers: the longest prompt the planned encoding buffer holds (default {})", kDefaultMaxPromptBytes))
                         ->check(whole_number(false));
    app.add_option("--packing", packing, "ternary weights in flash: auto, 2bit or base3 (1.6 bits per weight)")
        ->transform(one_of(
            std::map<std::string, PackingOption>{{"auto", PackingOption::Auto}, {"2bit", PackingOption::TwoBit}, {"base3", PackingOption::Base3}}));
    app.add_option("--memory", memory,
                   "static: the model's RAM are static arrays of its own (placeable by section macros); caller: one buffer of "
                   "NAME_RAM_BYTES the caller passes to NAME_init")
        ->transform(one_of(std::map<std::string, MemoryOption>{{"static", MemoryOption::Static}, {"caller", MemoryOption::Caller}}));
    std::string passes;
    for (const PassInfo& p : optimization_passes()) passes += fmt::format("\n  {:<20} {}", p.name, p.what);
    app.add_option("--disable-pass", disabled, "switch a pass off (repeatable):" + passes);
    app.add_option("--calibration", calibration,
                   "a text: choose the KV precision, window and kernels by the loss measured on it (every candidate plan interpreted), "
                   "the fastest within --max-loss-increase of the most accurate");
    max_loss_opt = app.add_option("--max-loss-increase", max_loss_increase, "with --calibration: percent of loss above the most accurate plan's allowed (default 0.5)")
                       ->check(CLI::Validator(
                           [](std::string& s) {
                             size_t used = 0;
                             double v = -1;
                             try {
                               v = std::stod(s, &used);
                             } catch (const std::exception&) {
                             }
                             return used == s.size() && std::isfinite(v) && v >= 0 ? std::string()
                                                                                    : "expected a percentage >= 0 (0.5, 2), got '" + s + "'";
                           },
                           "PERCENT"));
  }

  // The plan: the pipeline's rule, or with --calibration the candidate its measurement picks.
  CompiledModel compile(const Model& m) {
    if (max_loss_opt->count() && calibration.empty()) throw Error("--max-loss-increase: goes with --calibration (the text the loss is measured on)");
    if (calibration.empty()) return compile_model(m, options());
    const std::vector<uint8_t> bytes = read_input_file(calibration, "calibration text", int64_t{256} << 20);
    choice = choose_plan_by_quality(m, options(), std::string(bytes.begin(), bytes.end()), "--calibration " + calibration, max_loss_increase);
    return std::move(choice->program);  // the table needs only the candidates
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
    if (sram_opt->count()) o.sram = sram;
    if (flash_opt->count()) o.flash = flash;
    if (kv_opt->count()) o.kv_bits = kv_bits;
    if (window_opt->count()) o.window = window;
    o.kernel = kernel;
    o.packing = packing;
    o.memory = memory;
    if (lut_opt->count()) o.lut_chunk = lut_chunk;
    if (max_prompt_opt->count()) o.max_prompt_bytes = max_prompt_bytes;
    o.disabled_passes.insert(disabled.begin(), disabled.end());
    return o;
  }
};

// The JSON report with the calibration's candidates (docs/report.md, "calibration"), when
// --calibration chose the plan.
std::string with_calibration(const std::string& report, const std::optional<PlanChoice>& choice) {
  if (!choice) return report;
  nlohmann::ordered_json doc = nlohmann::ordered_json::parse(report);
  nlohmann::ordered_json candidates = nlohmann::ordered_json::array();
  for (size_t i = 0; i < choice->candidates.size(); ++i) {
    const PlanCandidate& p = choice->candidates[i];
    candidates.push_back({{"window", p.window}, {"kv_bits", p.kv_bits}, {"kernels", p.kernels}, {"estimated_instructions", p.estimated_instructions},
                          {"loss_nats_per_token", p.loss}, {"chosen", i == choice->chosen}});
  }
  doc["calibration"] = {{"tokens", choice->calibration_tokens}, {"max_loss_increase_percent", choice->max_increase_percent}, {"candidates", candidates}};
  return doc.dump(2) + "\n";
}

// What the outputs record of their making: bitgptc's version, the command line, and a
// hash of the model's files.
Provenance provenance(int argc, char** argv, const Model& model, const std::string& source, double clock_mhz) {
  Provenance p;
  p.source = source;
  p.version = BITGPT_VERSION;
  p.command_line = "bitgptc";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool quote = arg.empty() || arg.find_first_of(" \t'\"$\\") != std::string::npos;
    p.command_line += " " + (quote ? "'" + arg + "'" : arg);
  }
  uint64_t h = 0xcbf29ce484222325ull;
  for (const std::string& file : model.inputs) {
    const std::vector<uint8_t> bytes = read_input_file(file, "model file", int64_t{4} << 30);
    h = fnv1a64(bytes.data(), bytes.size(), h);
  }
  p.model_hash = fmt::format("{:016x}", h);
  p.clock_mhz = clock_mhz;
  return p;
}

enum class EmitOption { Cpp, Obj, Asm, Llvm };

// --section PART=NAME, repeatable: the object's ELF section of each part.
ObjectSections parse_sections(const std::vector<std::string>& args) {
  ObjectSections s;
  const std::map<std::string, std::string ObjectSections::*> parts = {
      {"weights", &ObjectSections::weights}, {"arena", &ObjectSections::arena}, {"kv", &ObjectSections::kv}, {"state", &ObjectSections::state}};
  for (const std::string& arg : args) {
    const size_t eq = arg.find('=');
    const auto part = parts.find(arg.substr(0, eq));
    if (eq == std::string::npos || part == parts.end())
      throw Error(fmt::format("--section '{}': expected PART=NAME with PART one of weights, arena, kv, state", arg));
    const std::string name = arg.substr(eq + 1);
    if (name.empty()) throw Error(fmt::format("--section '{}': the section name for {} is missing", arg, part->first));
    if (name.find_first_of(" \t\n\"',;#") != std::string::npos)
      throw Error(fmt::format("--section '{}': '{}' is not a section name (no spaces, quotes, commas, ';' or '#')", arg, name));
    s.*(part->second) = name;
  }
  return s;
}

int compile_main(int argc, char** argv) {
  CLI::App app{"bitgptc: compiles ternary and binary GPT models into self-contained C++ for microcontrollers"};
  app.footer("Also: bitgptc run MODEL --prompt TEXT -n N       generate with the reference interpreter\n"
             "      bitgptc eval MODEL --text FILE | --reference-tokens FILE   measure quality under the plan\n"
               "      bitgptc convert MODEL --to gguf|json|hf OUT       the checkpoint in another format");
  PlanArgs plan;
  plan.add_to(app);
  std::string out_dir, report_path;
  bool quiet = false;
  const CLI::Option* output = app.add_option("-o,--output", out_dir, "write the emitted model (--emit) and a host demo into this directory");
  EmitOption emit_kind = EmitOption::Cpp;
  const CLI::Option* emit_opt =
      app.add_option("--emit", emit_kind,
                     "with -o: cpp (C++ sources, the default), obj (NAME.o, one ELF object generated by LLVM, and NAME.h), "
                     "asm or llvm (that object's assembly or LLVM IR, to read)")
          ->transform(one_of(
              std::map<std::string, EmitOption>{{"cpp", EmitOption::Cpp}, {"obj", EmitOption::Obj}, {"asm", EmitOption::Asm}, {"llvm", EmitOption::Llvm}}));
  ObjectOptimization optimization = ObjectOptimization::Speed;
  const CLI::Option* optimize_opt =
      app.add_option("--optimize", optimization, "with --emit obj, asm or llvm: speed (LLVM -O2, the default) or size (-Os)")
          ->transform(one_of(
              std::map<std::string, ObjectOptimization>{{"speed", ObjectOptimization::Speed}, {"size", ObjectOptimization::Size}}));
  std::vector<std::string> section_args;
  const CLI::Option* section_opt = app.add_option(
      "--section", section_args,
      "with --emit obj: PART=NAME puts a part in ELF section NAME for your linker script (repeatable; parts: weights, default "
      ".rodata.bitgpt; arena, kv, state, default .bss.bitgpt.PART). As with GCC's section attribute, a RAM part is "
      "zero-filled (NOBITS) only in a section named .bss.*");
  app.add_option("--report-json", report_path, "write the memory plan as JSON (docs/report.md); - for standard output (then no text plan)");
  app.add_flag("-q,--quiet", quiet, "do not print the memory plan");
  std::string depfile_path, html_path;
  double clock_mhz = 0;
  app.add_option("--report-html", html_path, "write the plan as one self-contained HTML page: the arena over the steps, SRAM and flash against "
                                             "their budgets, the per-layer table");
  app.add_option("--clock-mhz", clock_mhz, "the clock for the report's time estimates (default: the target's typical clock)")
      ->check(CLI::Range(0.001, 100000.0));
  app.add_option("--depfile", depfile_path,
                 "with -o: write a Make-style dependency file: NAME.h depends on the model's files and on bitgptc itself, so a build "
                 "system recompiles the model when, and only when, one of them changes");
  if (const std::optional<int> exit = parse(app, argc, argv)) return *exit;

  const Model model = plan.load();
  const CompiledModel compiled = plan.compile(model);
  // Everything is generated before anything is written: a failure leaves no output.
  std::map<std::string, std::string> files;
  const bool emit = output->count() > 0;
  if (emit && out_dir.empty()) throw Error("-o: the output folder is an empty path");
  const Provenance origin = provenance(argc, argv, model, std::filesystem::path(plan.model).filename().string(), clock_mhz);
  if (emit_opt->count() && !emit) throw Error("--emit: goes with -o (the folder the output is written to)");
  if ((optimize_opt->count() || section_opt->count()) && emit_kind == EmitOption::Cpp)
    throw Error(fmt::format("{}: only for the object backend (--emit obj, asm or llvm)", optimize_opt->count() ? "--optimize" : "--section"));
  ObjectOptions object;
  object.kind = emit_kind == EmitOption::Asm ? ObjectKind::Assembly : emit_kind == EmitOption::Llvm ? ObjectKind::LlvmIr : ObjectKind::Object;
  object.optimization = optimization;
  object.sections = parse_sections(section_args);
  if (emit) files = emit_kind == EmitOption::Cpp ? emit_cpp(compiled, origin) : emit_object(compiled, origin, object);
  // The report's and the depfile's destinations are checked (and a regular file's
  // temporary written) first: a bad path fails before the output folder is touched.
  std::optional<PendingFile> report, depfile;
  std::optional<PendingFile> html;
  if (!report_path.empty()) report.emplace(report_path, with_calibration(report_json(compiled, origin), plan.choice), "--report-json");
  if (!html_path.empty()) html.emplace(html_path, report_html(compiled, origin), "--report-html");
  if (!depfile_path.empty()) {
    if (!emit) throw Error("--depfile: goes with -o (the dependency file names the emitted header as its target)");
    std::vector<std::string> deps;
    for (const std::string& f : model.inputs) deps.push_back(std::filesystem::absolute(f).lexically_normal().string());
    std::error_code ec;
    const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) deps.push_back(self.string());
    const std::string header = (std::filesystem::path(out_dir) / (compiled.graph.name + ".h")).lexically_normal().string();
    depfile.emplace(depfile_path, depfile_text(header, deps), "--depfile");
  }
  if (emit) write_output_dir(out_dir, files);
  if (report) report->commit();
  if (html) html->commit();
  if (depfile) depfile->commit();
  quiet = quiet || report_path == "-";
  if (!quiet) std::cout << format_report(compiled, origin);
  if (!quiet && plan.choice) std::cout << "\n" << plan_choice_table(*plan.choice);
  if (emit && !quiet) std::cout << fmt::format("\nwrote {} files to {}\n", files.size(), out_dir);
  if (emit && has_firmware(*compiled.target) && (emit_kind == EmitOption::Cpp || emit_kind == EmitOption::Obj))
    if (const std::string why = firmware_unavailable(compiled); !why.empty())
      std::cerr << fmt::format("note: no QEMU firmware project in {}: {}; the model's {} complete\n", out_dir, why, emit_kind == EmitOption::Cpp ? "sources are" : "object is");
  return 0;
}

// The interpreter runs on the host for checks and demonstrations; a bound keeps a typo
// from running for days.
constexpr int64_t kMaxRunTokens = 1'000'000;

int run_main(int argc, char** argv) {
  CLI::App app{"bitgptc run: generate text with the reference interpreter, under the plan a compilation would choose"};
  PlanArgs plan;
  plan.add_to(app);
  std::string prompt, temperature = "0";
  int64_t tokens = 64;
  uint64_t seed = 0;
  app.add_option("--prompt", prompt, "text to start from (default: empty)");
  app.add_option("-n,--tokens", tokens, fmt::format("tokens to generate, at most {}", kMaxRunTokens))
      ->check(whole_number(false))
      ->check(CLI::Range(int64_t{0}, kMaxRunTokens))
      ->capture_default_str();
  app.add_option("--temperature", temperature, "0 for greedy, else sample at this temperature")->capture_default_str();
  app.add_option("--seed", seed, "sampler seed, 0 to 2^64 - 1")->check(whole_number(true))->capture_default_str();
  if (const std::optional<int> exit = parse(app, argc, argv)) return *exit;

  const Model model = plan.load();
  const CompiledModel compiled = plan.compile(model);
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
  auto* text_opt = app.add_option("--text", text_path, "average loss on this UTF-8 text");
  auto* ref = app.add_option("--reference-tokens", reference_path, "top-1 agreement with these whitespace-separated ids (the first is the start token)");
  text_opt->excludes(ref);
  std::string predictions_path, dump_path;
  app.add_option("--predictions", predictions_path,
                 "compare with another runtime's greedy choices (one id per predicted position, same protocol): with --reference-tokens "
                 "instead of the next reference token, with --text beside the loss");
  app.add_option("--dump-tokens", dump_path, "with --text: write the text's token ids, as scored (for another runtime to score the same)")->needs(text_opt);
  app.add_option("--max-tokens", max_tokens, "evaluate at most this many tokens of the text")
      ->check(whole_number(false))
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 31))
      ->capture_default_str();
  const CLI::Option* segment_opt = app.add_option("--segment", segment, "tokens per segment, each started afresh with BOS (default: max_seq_len)")
                                       ->check(whole_number(false))
                                       ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  if (const std::optional<int> exit = parse(app, argc, argv)) return *exit;
  if (text_path.empty() && reference_path.empty()) throw Error("eval: give --text FILE or --reference-tokens FILE");

  const Model model = plan.load();
  if (segment_opt->count() && model.arch.positions == Positions::Learned && segment > model.arch.max_seq_len)
    throw Error(fmt::format("--segment: {} tokens is more than the {} positions this model learned (max_seq_len)", segment, model.arch.max_seq_len));
  // Read the text before the (slower) compilation, so that a bad path fails at once.
  std::string text;
  if (!text_path.empty()) {
    const std::vector<uint8_t> bytes = read_input_file(text_path, "text", int64_t{1} << 30);
    text.assign(bytes.begin(), bytes.end());
    if (text.empty()) throw Error(text_path + ": the text is empty: there is nothing to score");
  }
  const CompiledModel compiled = plan.compile(model);
  const CompiledModel reference = reference_program(model, compiled);
  std::cout << fmt::format("plan: window {}, {}-bit KV cache, target {}, SRAM {} of {} bytes\n", compiled.fit.window, compiled.fit.kv_bits,
                           compiled.target->name, compiled.fit.cost.total(), compiled.sram_budget);
  const std::vector<int32_t> predictions = predictions_path.empty() ? std::vector<int32_t>{} : read_token_ids(predictions_path, model.arch.vocab_size);
  if (!text_path.empty()) {
    // On a terminal, a line that says how far it is (an evaluation can take minutes).
    const bool tty = isatty(fileno(stderr));
    int64_t shown = -1;
    const LossResult r = evaluate_loss(reference, text, "--text " + text_path, segment_opt->count() ? segment : model.arch.max_seq_len, max_tokens,
                                       [&](int64_t done, int64_t total) {
                                         const int64_t percent = total ? 100 * done / total : 0;
                                         if (!tty || percent == shown) return;
                                         shown = percent;
                                         std::cerr << fmt::format("\reval: {} of {} tokens ({}%)", done, total, percent) << std::flush;
                                       },
                                       predictions);
    if (tty) std::cerr << "\r\033[K" << std::flush;
    std::cout << fmt::format("tokens: {}\ncharacters: {}\nloss-nats-per-token: {:.4f}\nbits-per-char: {:.4f}\n", r.tokens, r.bytes,
                             r.nats_per_token(), r.bits_per_char());
    if (!predictions.empty()) std::cout << fmt::format("top1-agreement: {:.4f}\n", static_cast<double>(r.agreed) / static_cast<double>(r.tokens));
    if (!dump_path.empty()) {
      std::string ids;
      for (int32_t id : r.ids) ids += fmt::format("{}\n", id);
      PendingFile(dump_path, ids, "--dump-tokens").commit();
    }
  } else {
    const AgreementResult r = evaluate_agreement(reference, read_token_ids(reference_path, model.arch.vocab_size), predictions);
    std::cout << fmt::format("compared: {}\nagreed: {}\ntop1-agreement: {:.4f}\n", r.compared, r.agreed, r.fraction());
  }
  return 0;
}

// bitgptc convert IN --to gguf|json|hf OUT: a checkpoint in another format, nothing compiled.
int convert_main(int argc, char** argv) {
  CLI::App app{"bitgptc convert: write a checkpoint bitgptc reads in another format"};
  std::string in, out, tokenizer, quantize, to;
  app.add_option("model", in, "model.json, a llama2.c / bitllama2.c .bin (with --tokenizer), a .gguf, or a Hugging Face folder")->required();
  app.add_option("--tokenizer", tokenizer, "tokenizer.bin of a llama2.c checkpoint");
  app.add_option("--quantize", quantize, "ternary: ternarise every layer matrix (absmean, per matrix) first")->check(CLI::IsMember({"ternary"}));
  app.add_option("--to", to,
                 "gguf (llama, or bitnet with sub-norms; F32 tensors), json (bitgptc's model.json + weights sidecar) or hf (a Hugging Face folder: "
                 "config.json, model.safetensors with BitNet's packed ternary weights, tokenizer.json)")
      ->required()
      ->check(CLI::IsMember({"gguf", "json", "hf"}));
  app.add_option("output", out, "the file to write (for json: the manifest; its sidecar goes beside it; for hf: the folder)")->required();
  if (const std::optional<int> exit = parse(app, argc, argv)) return *exit;
  Model model = load_model(in, tokenizer);
  if (quantize == "ternary") ternarize_matrices(model);
  if (to == "json") {
    write_model_json(model, out);
  } else if (to == "hf") {
    write_output_dir(out, hf_folder_files(model));
    if (const std::string caveat = hf_folder_caveats(model); !caveat.empty()) std::cerr << "bitgptc: warning: " << caveat << "\n";
  } else {
    const std::vector<uint8_t> bytes = gguf_bytes(model);
    PendingFile file(out, std::string(bytes.begin(), bytes.end()), "convert's output");
    file.commit();
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc > 1 && std::string(argv[1]) == "run") return run_main(argc - 1, argv + 1);
    if (argc > 1 && std::string(argv[1]) == "eval") return eval_main(argc - 1, argv + 1);
    if (argc > 1 && std::string(argv[1]) == "convert") return convert_main(argc - 1, argv + 1);
    if (argc == 2 && std::string(argv[1]) == "help") {
      char help[] = "--help";
      char* args[] = {argv[0], help};
      return compile_main(2, args);
    }
    return compile_main(argc, argv);
  } catch (const bitgpt::Error& e) {
    std::cerr << "bitgptc: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "bitgptc: error: " << e.what() << "\n";
    return 1;
  }
}
