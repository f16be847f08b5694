#include "interp/plan_quality.h"

#include <fmt/format.h>

#include "interp/evaluate.h"
#include "support/diagnostics.h"
#include "targets/target.h"

namespace bitgpt {

namespace {

// What differs between candidates: the dot products (the kernel mix) and attention (the
// window and the cache's precision), by the target's cost figures.
double estimated_instructions(const Model& m, const CompiledModel& c) {
  double sum = 0;
  for (const Step& s : c.steps)
    if (s.ternary_product) sum += s.estimated_instructions;
  const double per_element = c.fit.kv_bits == 4 ? c.dot_costs.attention_per_element4 : c.dot_costs.attention_per_element8;
  return sum + per_element * static_cast<double>(c.fit.window * m.arch.n_layers * m.arch.n_heads * m.arch.head_dim);
}

std::string kernel_mix(const CompiledModel& c) {
  int products = 0, lookup = 0;
  for (const Step& s : c.steps)
    if (s.ternary_product) {
      ++products;
      lookup += c.graph.ops[s.op].kernel == ir::Kernel::Lookup;
    }
  const std::string row = ir::kernel_name(c.row_kernel);
  if (lookup == 0) return "row kernel (" + row + ")";
  if (lookup == products) return "lookup tables";
  return fmt::format("lookup tables for {} of {} products, else {}", lookup, products, row);
}

}  // namespace

PlanChoice choose_plan_by_quality(const Model& model, const CompileOptions& base, const std::string& text, const std::string& what,
                                  double max_increase_percent) {
  if (text.empty()) throw Error(what + ": the calibration text is empty");
  PlanChoice choice;
  choice.max_increase_percent = max_increase_percent;
  const std::vector<int> bits = base.kv_bits ? std::vector<int>{*base.kv_bits} : std::vector<int>{8, 4};
  // the cost model's mix, and the target's best row kernel alone (no tables: all the SRAM
  // for the window)
  const TargetDesc& t = find_target(base.target);
  const KernelOption row_only = t.mve ? KernelOption::Mve : t.dsp ? KernelOption::Smlad : KernelOption::Portable;
  const std::vector<KernelOption> kernels =
      base.kernel == KernelOption::Auto ? std::vector<KernelOption>{KernelOption::Auto, row_only} : std::vector<KernelOption>{base.kernel};
  std::string last_error;
  // Each (precision, kernel policy) at its largest window; and, for the 4-bit cache, the
  // 8-bit plan's window too, with the SRAM the smaller cache frees for lookup tables.
  std::vector<CompileOptions> plans;
  std::vector<CompiledModel> programs;  // one per candidate
  for (int b : bits)
    for (KernelOption k : kernels) {
      CompileOptions o = base;
      o.kv_bits = b;
      o.kernel = k;
      plans.push_back(o);
    }
  for (size_t i = 0; i < plans.size(); ++i) {
    const CompileOptions o = plans[i];  // a copy: plans grows below
    CompiledModel c;
    try {
      c = compile_model(model, o);
    } catch (const Error& e) {
      last_error = e.what();
      continue;  // this precision or kernel does not fit the budget
    }
    if (!base.window && !base.kv_bits && o.kv_bits == 8 && o.kernel == KernelOption::Auto) {
      CompileOptions narrow = o;
      narrow.kv_bits = 4;
      narrow.window = c.fit.window;
      plans.push_back(narrow);
    }
    PlanCandidate p{o, c.fit.window, c.fit.kv_bits, kernel_mix(c), estimated_instructions(model, c), 0};
    bool seen = false;
    for (const PlanCandidate& q : choice.candidates)
      seen = seen || (q.window == p.window && q.kv_bits == p.kv_bits && q.kernels == p.kernels && q.estimated_instructions == p.estimated_instructions);
    if (seen) continue;
    const LossResult r = evaluate_loss(reference_program(model, c), text, what, model.arch.max_seq_len, int64_t{1} << 40);
    if (r.tokens == 0) throw Error(what + ": the calibration text gives no token to predict");
    p.loss = r.nats_per_token();
    choice.calibration_tokens = r.tokens;
    choice.candidates.push_back(std::move(p));
    programs.push_back(std::move(c));
  }
  if (choice.candidates.empty()) throw Error(last_error);
  for (size_t i = 0; i < choice.candidates.size(); ++i)
    if (choice.candidates[i].loss < choice.candidates[choice.most_accurate].loss) choice.most_accurate = i;
  const double bar = choice.candidates[choice.most_accurate].loss * (1 + max_increase_percent / 100);
  choice.chosen = choice.most_accurate;
  for (size_t i = 0; i < choice.candidates.size(); ++i) {
    const PlanCandidate &p = choice.candidates[i], &best = choice.candidates[choice.chosen];
    if (p.loss > bar) continue;
    if (p.estimated_instructions < best.estimated_instructions || (p.estimated_instructions == best.estimated_instructions && p.loss < best.loss))
      choice.chosen = i;
  }
  choice.program = std::move(programs[choice.chosen]);
  return choice;
}

std::string plan_choice_table(const PlanChoice& c) {
  std::string s = fmt::format("calibration: {} tokens; the fastest plan within {:g} % of the most accurate one's loss\n", c.calibration_tokens,
                              c.max_increase_percent);
  s += fmt::format("  {:>6} {:>7}  {:<48} {:>14} {:>10} {:>8}\n", "window", "KV bits", "kernels", "est. instr.", "loss", "vs best");
  const double best = c.candidates[c.most_accurate].loss;
  for (size_t i = 0; i < c.candidates.size(); ++i) {
    const PlanCandidate& p = c.candidates[i];
    s += fmt::format("{} {:>6} {:>7}  {:<48} {:>14.0f} {:>10.4f} {:>+7.2f}%\n", i == c.chosen ? "*" : " ", p.window, p.kv_bits, p.kernels,
                     p.estimated_instructions, p.loss, (p.loss / best - 1) * 100);
  }
  return s + "(* the plan chosen; est. instr.: the cost model's instructions per token in the dot products and attention; loss: nats per token)\n";
}

}  // namespace bitgpt
