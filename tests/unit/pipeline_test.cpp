// The pipeline end to end in process: every fusion pass keeps the integers exactly
// (the fused graph generates the same tokens and checksum as the reference graph), the
// plans are sound, and budgets that cannot fit fail with a breakdown.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "codegen/report.h"

#include "interp/generate.h"
#include "interp/interpreter.h"
#include "frontend/lower.h"
#include "passes/kernel_search.h"
#include "passes/pipeline.h"
#include "support/diagnostics.h"
#include "passes/kernel_cost.h"
#include "passes/pass_manager.h"
#include "passes/validate.h"
#include "tests/tools/random_model.h"

namespace {

using namespace bitgpt;

RandomModelSpec spec(const char* name) {
  RandomModelSpec s;
  s.name = name;
  s.arch.d_model = 24;
  s.arch.n_layers = 2;
  s.arch.n_heads = 4;
  s.arch.n_kv_heads = 2;
  s.arch.head_dim = 6;
  s.arch.d_ff = 40;
  s.arch.vocab_size = 256;
  s.arch.max_seq_len = 32;
  return s;
}

GenerateResult generate_with(const CompiledModel& program, const Model& m, int32_t temperature) {
  Interpreter interp(program);
  GenerateOptions o;
  o.prompt = "abc de";
  o.tokens = 20;
  o.temperature_q16 = temperature;
  o.seed = 9;
  return generate(interp, m.tokenizer, o);
}

class FusionExactness : public ::testing::TestWithParam<int> {};

TEST_P(FusionExactness, FusedGraphMatchesReference) {
  RandomModelSpec s = spec("fx");
  switch (GetParam()) {
    case 0: break;
    case 1: s.arch.ffn = FfnKind::GELU; s.arch.norm = NormKind::LayerNorm; s.matrix_dtype = WeightDType::Binary; break;
    case 2: s.arch.ffn = FfnKind::ReLU2; s.arch.sub_norm = true; s.matrix_dtype = WeightDType::Int8; s.per_row = true; break;
    case 3: s.arch.positions = Positions::Learned; s.arch.norm = NormKind::RmsNormNoGain; s.arch.tied_classifier = false; break;
    case 4: s.arch.n_kv_heads = 1; s.arch.head_dim = 5; s.arch.positions = Positions::Learned; s.matrix_dtype = WeightDType::F32; break;
  }
  const Model m = random_model(s);
  // The whole lowered program (fused, buffers shared in place, placed in one arena, the
  // lookup kernel where asked) against the reference program (unfused, every value its
  // own buffer, plain C).
  for (KernelOption kernel : {KernelOption::Auto, KernelOption::Lut4}) {
    for (int bits : {8, 4}) {
      for (int64_t window : {int64_t{1}, int64_t{3}, int64_t{32}}) {
        CompileOptions o;
        o.kernel = kernel;
        o.kv_bits = bits;
        o.window = window;
        const CompiledModel fused = compile_model(m, o);
        const CompiledModel reference = reference_program(m, fused);
        EXPECT_LT(fused.steps.size(), reference.steps.size());
        for (int32_t temperature : {0, 52429}) {
          const GenerateResult a = generate_with(reference, m, temperature);
          const GenerateResult b = generate_with(fused, m, temperature);
          EXPECT_EQ(a.text, b.text) << "bits " << bits << " window " << window;
          EXPECT_EQ(a.checksum, b.checksum) << "bits " << bits << " window " << window;
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Architectures, FusionExactness, ::testing::Range(0, 5));

TEST(Pipeline, EachPassCanBeSwitchedOff) {
  RandomModelSpec s = spec("passes");
  s.arch.sub_norm = true;  // fuse-norm-quantize: the sub-norms' NormQuantize then computes over their dying inputs
  s.arch.d_model = 64;
  s.arch.head_dim = 16;
  s.arch.d_ff = 128;
  const Model m = random_model(s);
  CompileOptions all;
  all.kernel = KernelOption::Portable;  // lookup tables would add their own scratch
  all.window = 32;  // at tiny windows a score buffer can be smaller than the fused kernel's accumulators
  const CompiledModel best = compile_model(m, all);
  CompileOptions none = all;
  for (const PassInfo& p : optimization_passes()) {
    CompileOptions o = all;
    o.disabled_passes = {p.name};
    none.disabled_passes.insert(p.name);
    const CompiledModel c = compile_model(m, o);
    // the pass changed the program (more ops, or more buffers without aliasing) ...
    EXPECT_TRUE(c.graph.ops.size() > best.graph.ops.size() || c.liveness.buffers.size() > best.liveness.buffers.size()) << p.name;
    // ... and never makes the plan smaller by being switched off
    EXPECT_GE(c.arena.bytes, best.arena.bytes) << p.name;
  }
  EXPECT_GT(compile_model(m, none).arena.bytes, best.arena.bytes * 3 / 2);
}

TEST(Pipeline, PlansReachTheLowerBound) {
  for (int variant = 0; variant < 3; ++variant) {
    RandomModelSpec s = spec("bound");
    s.arch.sub_norm = variant == 1;
    s.arch.ffn = variant == 2 ? FfnKind::ReLU2 : FfnKind::SwiGLU;
    const CompiledModel c = compile_model(random_model(s), {});
    EXPECT_EQ(c.arena.bytes, c.arena.lower_bound) << variant;
    EXPECT_LE(c.fit.cost.total(), c.sram_budget);
  }
}

TEST(Pipeline, TooSmallABudgetSaysWhatWouldFit) {
  const Model m = random_model(spec("tight"));
  CompileOptions o;
  o.target = "cortex-m4";
  o.sram = 1024;
  try {
    compile_model(m, o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("does not fit"), std::string::npos) << msg;
    EXPECT_NE(msg.find("arena"), std::string::npos) << msg;
    EXPECT_NE(msg.find("fits with --sram"), std::string::npos) << msg;
  }
  o.sram = 2048;
  o.kv_bits = 8;
  const CompiledModel c = compile_model(m, o);
  EXPECT_EQ(c.graph.kv_bits, 8);
  EXPECT_LE(c.fit.cost.total(), 2048);
}

// Under a flash budget between all-2-bit and all-base-3, only as many matrices as needed
// (the largest first) take the slower base-3 packing.
TEST(Pipeline, BaseThreePackingGoesOnlyAsFarAsTheFlashBudgetNeeds) {
  RandomModelSpec s = spec("flash");
  s.arch.d_model = 64;
  s.arch.n_heads = 4;
  s.arch.head_dim = 16;
  s.arch.d_ff = 192;
  const Model m = random_model(s);
  CompileOptions o;
  o.target = "cortex-m4";
  o.sram = 64 * 1024;
  // the 2-bit baseline: no lookup tables' 4-bit indices, and no int16 quads of the int8
  // classifier (the SMLAD kernel's, taken only where the flash has room)
  o.kernel = KernelOption::Portable;
  const CompiledModel two_bit = compile_model(m, o);
  o.packing = PackingOption::Base3;
  const CompiledModel all = compile_model(m, o);
  ASSERT_LT(all.flash_total(), two_bit.flash_total());
  o.packing = PackingOption::Auto;
  o.kernel = KernelOption::Auto;  // under flash pressure the cost model keeps row kernels, then packs
  o.flash = (two_bit.flash_total() + all.flash_total()) / 2;
  const CompiledModel mixed = compile_model(m, o);
  EXPECT_LE(mixed.flash_total(), *o.flash);
  int converted = 0, ternary = 0;
  int64_t smallest_converted = INT64_MAX, largest_kept = 0;
  for (size_t i = 0; i < mixed.matrices.size(); ++i) {
    const LoweredMatrix& mat = mixed.graph.constants.matrices[i];
    if (mat.dtype != BG_W_TERNARY2) continue;
    ++ternary;
    if (mixed.matrices[i].packing == Packing::Base3) {
      ++converted;
      smallest_converted = std::min(smallest_converted, mat.flash_bytes());
    } else {
      largest_kept = std::max(largest_kept, mat.flash_bytes());
    }
  }
  EXPECT_GT(converted, 0);
  EXPECT_LT(converted, ternary);
  EXPECT_GE(smallest_converted, largest_kept);  // the largest went first
  o.flash = all.flash_total() - 1;
  EXPECT_THROW(compile_model(m, o), Error);
}

// The cortex-m3 stores int8 rows (here the tied classifier) as row pairs, the SMLAD row
// kernel as int16 quads, when the flash has room: the classifier then has bytes of its
// own, counted in the plan's flash; with too little flash for them, the codes stay int8
// and shared with the embedding.
void expect_wide_int8_rows_take_flash_only_where_it_fits(const std::string& target, KernelOption kernel, Packing wide) {
  SCOPED_TRACE(target);
  const Model m = random_model(spec("pairs"));
  CompileOptions o;
  o.target = target;
  o.sram = 64 * 1024;
  o.kernel = kernel;  // no lookup tables, whose indices could give way first
  const CompiledModel widened = compile_model(m, o);
  const Constants& k = widened.graph.constants;
  ASSERT_TRUE(k.classifier_tied);
  const PackedMatrix& classifier = widened.matrices[static_cast<size_t>(k.classifier)];
  EXPECT_EQ(classifier.packing, wide);
  EXPECT_FALSE(classifier.tied_to_embedding);
  int64_t stored = k.flash_bytes() + widened.tokenizer_bytes;  // the constants counting the codes once, in the embedding
  for (size_t i = 0; i < k.matrices.size(); ++i) stored += widened.matrices[i].data.flash_bytes() - k.matrices[i].flash_bytes();
  EXPECT_EQ(widened.weights_flash_bytes(), stored + static_cast<int64_t>(k.matrices[static_cast<size_t>(k.classifier)].data.size()));

  o.flash = widened.flash_total() - 1;  // no room for them: int8 rows, shared again
  const CompiledModel plain = compile_model(m, o);
  EXPECT_EQ(plain.matrices[static_cast<size_t>(k.classifier)].packing, Packing::AsLowered);
  EXPECT_TRUE(plain.matrices[static_cast<size_t>(k.classifier)].tied_to_embedding);
  EXPECT_LE(plain.flash_total(), *o.flash);
  EXPECT_EQ(widened.weights_flash_bytes() - plain.weights_flash_bytes(),
            int64_t{2} * m.arch.d_model * (4 * ((m.arch.vocab_size + 3) / 4)));  // 2 bytes a weight in whole quads, the int8 codes still in the embedding
}

TEST(Pipeline, Int8RowPairsTakeFlashOnlyWhereItFits) {
  expect_wide_int8_rows_take_flash_only_where_it_fits("cortex-m3", KernelOption::Portable, Packing::Int8Pairs);
}

TEST(Pipeline, Int16QuadsTakeFlashOnlyWhereItFits) {
  expect_wide_int8_rows_take_flash_only_where_it_fits("cortex-m4", KernelOption::Smlad, Packing::Int16Quads);
  // the plain-C row kernel reads int8 rows as they are on the cortex-m4
  const Model m = random_model(spec("pairs"));
  CompileOptions o;
  o.target = "cortex-m4";
  o.sram = 64 * 1024;
  o.kernel = KernelOption::Portable;
  const CompiledModel c = compile_model(m, o);
  EXPECT_EQ(c.matrices[static_cast<size_t>(c.graph.constants.classifier)].packing, Packing::AsLowered);
}

// Thumb-2 cores store the lookup kernel's indices in 32-bit words where the flash has room
// (before int8 row pairs, which save less), matrix by matrix, else in halfwords; the cost
// figures of the estimates follow the packing; the host, whose C lookups gain nothing from
// words, keeps halfwords.
TEST(Pipeline, LookupWordIndicesTakeFlashOnlyWhereItFits) {
  const Model m = random_model(spec("words"));
  CompileOptions o;
  o.target = "cortex-m3";
  o.sram = 64 * 1024;
  o.kernel = KernelOption::Lut4;
  auto lookup_packings = [](const CompiledModel& c) {
    std::set<Packing> p;
    for (size_t i = 0; i < c.matrices.size(); ++i)
      if (c.graph.constants.matrices[i].dtype == BG_W_TERNARY2) p.insert(c.matrices[i].packing);
    return p;
  };
  const CompiledModel words = compile_model(m, o);
  EXPECT_EQ(lookup_packings(words), std::set<Packing>{Packing::LookupWords});
  EXPECT_DOUBLE_EQ(words.dot_costs.lut_per_group, words.target->dot.lut_word_per_group);
  const Constants& k = words.graph.constants;
  EXPECT_EQ(words.matrices[static_cast<size_t>(k.classifier)].packing, Packing::Int8Pairs);  // room for both here

  o.flash = words.flash_total() - 1;  // the words first give up the pairs' flash, then their own
  const CompiledModel no_pairs = compile_model(m, o);
  EXPECT_EQ(lookup_packings(no_pairs), std::set<Packing>{Packing::LookupWords});
  EXPECT_EQ(no_pairs.matrices[static_cast<size_t>(k.classifier)].packing, Packing::AsLowered);
  // a byte short of that: the matrices take words largest first while they fit, the
  // last (smallest) keeps halfwords
  o.flash = no_pairs.flash_total() - 1;
  const CompiledModel mixed = compile_model(m, o);
  EXPECT_EQ(lookup_packings(mixed), (std::set<Packing>{Packing::LookupWords, Packing::LookupIndices}));
  EXPECT_DOUBLE_EQ(mixed.dot_costs.lut_per_group, mixed.target->dot.lut_per_group);  // the halfwords' figure where both run
  EXPECT_LE(mixed.flash_total(), *o.flash);
  int64_t groups = 0;
  size_t lookup_matrices = 0;
  for (const LoweredMatrix& w : k.matrices)
    if (w.dtype == BG_W_TERNARY2) groups += int64_t{w.rows} * ((w.cols + 3) / 4), ++lookup_matrices;
  o.flash = no_pairs.flash_total() - 2 * groups;  // two bytes more a group: room for halfwords only
  const CompiledModel halfwords = compile_model(m, o);
  EXPECT_EQ(lookup_packings(halfwords), std::set<Packing>{Packing::LookupIndices});
  EXPECT_DOUBLE_EQ(halfwords.dot_costs.lut_per_group, halfwords.target->dot.lut_per_group);
  EXPECT_EQ(no_pairs.weights_flash_bytes() - halfwords.weights_flash_bytes(), 2 * groups);
  // the same integers every way
  const uint64_t checksum = generate_with(words, m, 0).checksum;
  EXPECT_EQ(generate_with(mixed, m, 0).checksum, checksum);
  EXPECT_EQ(generate_with(halfwords, m, 0).checksum, checksum);
  // at every budget between, a gated FFN's w1 and w3, and the attention's shared wq, wk
  // and wv, share one width (the kernel reads them all with the first one's), and the
  // integers stay the same
  int gated = 0, shared = 0;
  for (int step = 1; step < 16; ++step) {
    o.flash = halfwords.flash_total() + (no_pairs.flash_total() - halfwords.flash_total()) * step / 16;
    const CompiledModel between = compile_model(m, o);
    for (const ir::Op& op : between.graph.ops)
      if (op.kernel == ir::Kernel::Lookup && op.matrix2 >= 0) {
        ++(op.kind == ir::OpKind::SharedMatMul ? shared : gated);
        for (int other : op.matrices())
          EXPECT_EQ(between.matrices[static_cast<size_t>(op.matrix)].packing, between.matrices[static_cast<size_t>(other)].packing)
              << op.label << " at --flash " << *o.flash;
      }
    EXPECT_EQ(generate_with(between, m, 0).checksum, checksum) << "--flash " << *o.flash;
  }
  EXPECT_GT(gated, 0);  // the model has gated FFNs and shared products: the check is not vacuous
  EXPECT_GT(shared, 0);
  // and the JSON report says which
  EXPECT_EQ(nlohmann::json::parse(report_json(words))["packing"]["lookup_word_matrices"].size(), lookup_matrices);
  EXPECT_EQ(nlohmann::json::parse(report_json(mixed))["packing"]["lookup_word_matrices"].size(), lookup_matrices - 1);
  EXPECT_TRUE(nlohmann::json::parse(report_json(halfwords))["packing"]["lookup_word_matrices"].empty());

  o.target = "host";
  o.flash.reset();
  EXPECT_EQ(lookup_packings(compile_model(m, o)), std::set<Packing>{Packing::LookupIndices});
}

// The cortex-m55's Helium kernel reads ternary rows of 128-weight blocks; a row kernel
// pinned instead of it (portable, smlad) reads the 2-bit rows.
TEST(Pipeline, BlockRowsOnlyForTheTargetsOwnRowKernel) {
  const Model m = random_model(shaped_spec("blocks", 128, 1, 4, 1, 32, 256, 256, 64));
  CompileOptions o;
  o.target = "cortex-m55";
  o.sram = 64 * 1024;
  auto packings = [&](KernelOption k) {
    o.kernel = k;
    std::set<Packing> p;
    const CompiledModel c = compile_model(m, o);
    for (size_t i = 0; i < c.matrices.size(); ++i)
      if (c.graph.constants.matrices[i].dtype == BG_W_TERNARY2) p.insert(c.matrices[i].packing);
    return p;
  };
  EXPECT_EQ(packings(KernelOption::Mve), std::set<Packing>{Packing::Planes128});
  EXPECT_EQ(packings(KernelOption::Auto), std::set<Packing>{Packing::Planes128});
  EXPECT_EQ(packings(KernelOption::Portable), std::set<Packing>{Packing::AsLowered});
  EXPECT_EQ(packings(KernelOption::Smlad), std::set<Packing>{Packing::AsLowered});
}

TEST(Pipeline, RejectsBadOptions) {
  const Model m = random_model(spec("opts"));
  CompileOptions o;
  o.target = "z80";
  EXPECT_THROW(compile_model(m, o), Error);
  o = {};
  o.kv_bits = 6;
  EXPECT_THROW(compile_model(m, o), Error);
  o = {};
  o.window = 1000;
  EXPECT_THROW(compile_model(m, o), Error);
  o = {};
  o.disabled_passes = {"fuse-everything"};
  EXPECT_THROW(compile_model(m, o), Error);
}

// The shape of the shipped example (d 128, FFN 384, one KV head of 32): where lookup
// tables pay and where they do not, by the cost model, at a few budgets.
RandomModelSpec example_shape() {
  RandomModelSpec s = spec("example_shape");
  s.arch.d_model = 128;
  s.arch.n_heads = 4;
  s.arch.n_kv_heads = 1;
  s.arch.head_dim = 32;
  s.arch.d_ff = 384;
  s.arch.n_layers = 4;
  s.arch.max_seq_len = 256;
  return s;
}

int lookup_products(const CompiledModel& c, ir::OpKind kind) {
  int n = 0;
  for (int op : ternary_products(c.graph)) n += c.graph.ops[op].kind == kind && c.graph.ops[op].kernel == ir::Kernel::Lookup;
  return n;
}

int count_ops(const ir::Graph& g, ir::OpKind kind) {
  return static_cast<int>(std::ranges::count_if(g.ops, [&](const ir::Op& op) { return op.kind == kind; }));
}

// fuse-shared-input: each layer's wq, wk and wv become one step with an output each (the
// FFN's w1 and w3 are already the gated step, wo and w2 add into the residual); off, they
// stay three products. A product whose output is read before the next one of the same
// input stays out of the group: the step stands where its last member stood.
TEST(Fusion, SharedInputProductsBecomeOneStep) {
  const Model m = random_model(example_shape());
  ir::Graph g = lower_model(m, 16, 8);
  ir::Graph unfused = g;
  run_fusion_passes(g, {});
  run_fusion_passes(unfused, {"fuse-shared-input"});
  ASSERT_EQ(count_ops(g, ir::OpKind::SharedMatMul), m.arch.n_layers);
  EXPECT_EQ(count_ops(unfused, ir::OpKind::SharedMatMul), 0);
  EXPECT_EQ(count_ops(unfused, ir::OpKind::MatMul), count_ops(g, ir::OpKind::MatMul) + 3 * m.arch.n_layers);
  for (const ir::Op& op : g.ops) {
    if (op.kind != ir::OpKind::SharedMatMul) continue;
    ASSERT_EQ(op.matrices().size(), 3u) << op.label;
    EXPECT_EQ(op.label, fmt::format("l{}.wq,wk,wv", op.layer));
    for (size_t k = 0; k < 3; ++k) EXPECT_EQ(g.values[op.outputs[k]].elements, g.constants.matrices[op.matrices()[k]].rows) << op.label;
    EXPECT_EQ(g.product_rows(op), m.arch.d_model + 2 * m.arch.n_kv_heads * m.arch.head_dim);
  }
  // layer 0's rope of q moved to just after wq: wq's output is read before wk runs
  ir::Graph moved = lower_model(m, 16, 8);
  const auto at = [&](const std::string& label) {
    return static_cast<int>(std::ranges::find_if(moved.ops, [&](const ir::Op& op) { return op.label == label; }) - moved.ops.begin());
  };
  const int wq = at("l0.wq"), rope = at("l0.rope_q");
  ASSERT_LT(wq, rope);
  ASSERT_LT(rope, static_cast<int>(moved.ops.size()));
  const ir::Op rope_q = moved.ops[static_cast<size_t>(rope)];
  moved.ops.erase(moved.ops.begin() + rope);
  moved.ops.insert(moved.ops.begin() + wq + 1, rope_q);
  run_fusion_passes(moved, {});
  EXPECT_EQ(count_ops(moved, ir::OpKind::SharedMatMul), m.arch.n_layers);
  for (const ir::Op& op : moved.ops)
    if (op.kind == ir::OpKind::SharedMatMul && op.layer == 0) {
      EXPECT_EQ(op.label, "l0.wk,wv");
      EXPECT_EQ(op.matrix3, -1);
    }
  EXPECT_EQ(at("l0.wq") < static_cast<int>(moved.ops.size()) ? moved.ops[static_cast<size_t>(at("l0.wq"))].kind : ir::OpKind::Embed, ir::OpKind::MatMul);

  // an int8 wq beside ternary wk and wv stays a product of its own: the shared step runs
  // on one kernel, and the ternary pair keeps its lookup tables
  ir::Graph mixed = lower_model(m, 16, 8);
  for (const ir::Op& op : mixed.ops)
    if (op.label == "l1.wq") mixed.constants.matrices[static_cast<size_t>(op.matrix)].dtype = BG_W_INT8;
  run_fusion_passes(mixed, {});
  EXPECT_EQ(count_ops(mixed, ir::OpKind::SharedMatMul), m.arch.n_layers);
  for (const ir::Op& op : mixed.ops)
    if (op.kind == ir::OpKind::SharedMatMul) {
      EXPECT_EQ(op.label, op.layer == 1 ? "l1.wk,wv" : fmt::format("l{}.wq,wk,wv", op.layer));
    }

  // the validator holds a shared step to its form: the second matrix set, an output each
  validate_graph(g);
  for (ir::Op& op : g.ops)
    if (op.kind == ir::OpKind::SharedMatMul) {
      std::swap(op.matrix2, op.matrix3);
      op.matrix2 = -1;
      break;
    }
  EXPECT_THROW(validate_graph(g), Error);
}

TEST(KernelCost, TablesCostLessWithMoreRowsAndLargerChunks) {
  const Model m = random_model(example_shape());
  ir::Graph g = lower_model(m, 16, 8);
  run_fusion_passes(g, {});
  const DotCosts costs = find_target("cortex-m4").dot;
  for (int op : ternary_products(g)) {
    const ir::Op& o = g.ops[op];
    const int groups = (g.constants.matrices[o.matrix].cols + 3) / 4;
    EXPECT_LT(product_cost(g, o, {true, groups}, costs), product_cost(g, o, {true, 4}, costs)) << o.label;
  }
  // per weight, the tables' build is shared by more rows in the FFN's first half (768) than
  // in the attention's wq, wk and wv (192), and by those more than by wo (128)
  auto per_weight = [&](const char* label, KernelChoice k) {
    for (int op : ternary_products(g))
      if (g.ops[op].label == label) {
        const LoweredMatrix& mat = g.constants.matrices[g.ops[op].matrix];
        return product_cost(g, g.ops[op], k, costs) / (double(g.product_rows(g.ops[op])) * mat.cols);
      }
    ADD_FAILURE() << label;
    return 0.0;
  };
  EXPECT_LT(per_weight("l0.w1*l0.w3", {true, 32}), per_weight("l0.wq,wk,wv", {true, 32}));
  EXPECT_LT(per_weight("l0.wq,wk,wv", {true, 32}), per_weight("l0.wo+residual", {true, 32}));
  EXPECT_DOUBLE_EQ(per_weight("l0.wq,wk,wv", {}), costs.row_per_weight + costs.row_per_row / 128);
}

TEST(Pipeline, CostModelPutsTablesWhereTheyPayAndFit) {
  const Model m = random_model(example_shape());
  CompileOptions o;
  o.target = "cortex-m4";
  o.sram = 8 * 1024;  // the FFN's tables fit beside the 8-bit cache once it gives up two slots
  const CompiledModel tight = compile_model(m, o);
  EXPECT_EQ(lookup_products(tight, ir::OpKind::FfnUp), 4);
  EXPECT_LT(tight.graph.window, tight.row_window);
  EXPECT_GE(tight.graph.window, kPreferredMinWindow);
  o.sram = 16 * 1024;  // room for the tables at a wider window
  const CompiledModel roomy = compile_model(m, o);
  EXPECT_EQ(lookup_products(roomy, ir::OpKind::FfnUp), 4);
  // wq, wk and wv (192 rows, sharing the tables) take tables: each product's kernel is the
  // one its two estimates call for
  for (const CompiledModel* c : {&tight, &roomy}) {
    for (int op : ternary_products(c->graph)) {
      const ir::Op& p = c->graph.ops[op];
      if (p.kind != ir::OpKind::SharedMatMul) continue;  // wq, wk and wv
      EXPECT_EQ(p.kernel, ir::Kernel::Lookup) << p.label;
      const double lut = product_cost(c->graph, p, {true, p.lut_chunk}, c->dot_costs), row = product_cost(c->graph, p, {}, c->dot_costs);
      EXPECT_TRUE(tables_pay(lut, row)) << p.label << ": " << lut << " against " << row;
    }
  }
  EXPECT_EQ(lookup_products(tight, ir::OpKind::SharedMatMul), 4);
  EXPECT_GT(roomy.graph.window, tight.graph.window);
  EXPECT_LE(products_cost(roomy.graph, roomy.dot_costs), products_cost(tight.graph, tight.dot_costs));
  o.kernel = KernelOption::Smlad;  // pinned: no tables
  EXPECT_EQ(lookup_products(compile_model(m, o), ir::OpKind::FfnUp), 0);
}

// A chunk holds at most BG_LUT_MAX_CHUNK groups, so that every packed byte offset fits a
// halfword: whole tables for w2's 1,600 inputs (400 groups) are taken in chunks of 364,
// and the plan computes the reference's integers.
TEST(Pipeline, TableChunksStopWhereTheirOffsetsFitAHalfword) {
  const Model m = random_model(shaped_spec("wide", 32, 1, 2, 1, 16, 1600, 256, 16));
  CompileOptions o;
  o.target = "host";
  o.sram = 1024 * 1024;
  o.kernel = KernelOption::Lut4;
  const CompiledModel c = compile_model(m, o);
  int wide = 0;
  for (int op : ternary_products(c.graph)) {
    EXPECT_LE(c.graph.ops[op].lut_chunk, BG_LUT_MAX_CHUNK);
    if (c.graph.constants.matrices[c.graph.ops[op].matrix].cols == 1600) {
      ++wide;
      EXPECT_EQ(c.graph.ops[op].lut_chunk, BG_LUT_MAX_CHUNK);
    }
  }
  EXPECT_EQ(wide, 1);
  EXPECT_EQ(generate_with(c, m, 0).checksum, generate_with(reference_program(m, c), m, 0).checksum);
}

TEST(KernelCost, ACheaperSmallerChunkWinsOverATestedLargerOne) {
  // 96 groups (w2's 384 inputs): a chunk of 24 tests its last 8 lookups in every row,
  // one of 16 is straight code, so 16 costs less although it is smaller; the whole
  // input (96 = six passes of 16) is straight too and cheapest.
  const Model m = random_model(example_shape());
  const ir::Graph g = lower_model(m, 16, 8);
  const DotCosts costs = find_target("cortex-m4").dot;
  int checked = 0;
  for (int op : ternary_products(g)) {
    if (g.constants.matrices[g.ops[op].matrix].cols != 384) continue;
    ++checked;
    EXPECT_LT(product_cost(g, g.ops[op], {true, 16}, costs), product_cost(g, g.ops[op], {true, 24}, costs));
    EXPECT_LT(product_cost(g, g.ops[op], {true, 8}, costs), product_cost(g, g.ops[op], {true, 12}, costs));
    EXPECT_DOUBLE_EQ(best_lut_cost(g, g.ops[op], costs), product_cost(g, g.ops[op], {true, 96}, costs));
  }
  EXPECT_EQ(checked, 4);  // one w2 a layer: the test is not vacuous
}

TEST(Pipeline, WindowGivesWayOnlyWithinTheSlack) {
  const Model m = random_model(example_shape());
  CompileOptions o;
  o.target = "cortex-m3";
  o.sram = 16 * 1024;
  const CompiledModel chosen = compile_model(m, o);
  o.window = kPreferredMinWindow;
  const double cheapest = [&] {
    const CompiledModel c = compile_model(m, o);
    return products_cost(c.graph, c.dot_costs);
  }();
  ASSERT_LT(chosen.graph.window, chosen.row_window);  // plain C: tables pay enough to take window
  EXPECT_LE(products_cost(chosen.graph, chosen.dot_costs), (1 + kWindowTradeSlack) * cheapest);
  o.window = chosen.graph.window + 1;  // one slot more is over the slack
  const CompiledModel wider = compile_model(m, o);
  EXPECT_GT(products_cost(wider.graph, wider.dot_costs), (1 + kWindowTradeSlack) * cheapest);
}

}  // namespace
