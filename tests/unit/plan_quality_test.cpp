// --calibration: the candidates are the plans of both KV precisions (and kernel policies)
// at one budget, each measured; the bound picks among them as documented.
#include <gtest/gtest.h>

#include "interp/plan_quality.h"
#include "support/diagnostics.h"
#include "tests/tools/random_model.h"

namespace bitgpt {
namespace {

const char* kText = "It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife. "
                    "However little known the feelings or views of such a man may be on his first entering a neighbourhood.";

CompileOptions tight_m4() {
  CompileOptions o;
  o.target = "cortex-m4";
  o.sram = 6 * 1024;  // the KV cache is most of it: 4-bit buys window
  return o;
}

TEST(PlanQuality, MeasuresBothPrecisionsAndKeepsTheBound) {
  const Model m = random_model(small_spec("cal"));
  const PlanChoice c = choose_plan_by_quality(m, tight_m4(), kText, "test text", 0.5);
  ASSERT_GE(c.candidates.size(), 2u);
  bool eight = false, four = false;
  for (const PlanCandidate& p : c.candidates) {
    eight = eight || p.kv_bits == 8;
    four = four || p.kv_bits == 4;
    EXPECT_GE(p.loss, c.candidates[c.most_accurate].loss);
  }
  EXPECT_TRUE(eight && four);
  EXPECT_GT(c.calibration_tokens, 0);
  const PlanCandidate& chosen = c.candidates[c.chosen];
  EXPECT_LE(chosen.loss, c.candidates[c.most_accurate].loss * 1.005);
  for (const PlanCandidate& p : c.candidates) {
    if (p.loss <= c.candidates[c.most_accurate].loss * 1.005) {
      EXPECT_LE(chosen.estimated_instructions, p.estimated_instructions);
    }
  }
  EXPECT_NE(plan_choice_table(c).find("*"), std::string::npos);
}

TEST(PlanQuality, ZeroBoundTakesTheMostAccurateAndAHugeOneTheFastest) {
  const Model m = random_model(small_spec("cal"));
  const PlanChoice exact = choose_plan_by_quality(m, tight_m4(), kText, "test text", 0);
  EXPECT_EQ(exact.candidates[exact.chosen].loss, exact.candidates[exact.most_accurate].loss);
  const PlanChoice any = choose_plan_by_quality(m, tight_m4(), kText, "test text", 1e9);
  for (const PlanCandidate& p : any.candidates) EXPECT_LE(any.candidates[any.chosen].estimated_instructions, p.estimated_instructions);
}

TEST(PlanQuality, PinnedPrecisionIsTheOnlyOne) {
  const Model m = random_model(small_spec("cal"));
  CompileOptions o = tight_m4();
  o.kv_bits = 4;
  for (const PlanCandidate& p : choose_plan_by_quality(m, o, kText, "test text", 0.5).candidates) EXPECT_EQ(p.kv_bits, 4);
}

TEST(PlanQuality, EmptyTextIsAnError) {
  const Model m = random_model(small_spec("cal"));
  EXPECT_THROW(choose_plan_by_quality(m, tight_m4(), "", "test text", 0.5), Error);
}

}  // namespace
}  // namespace bitgpt
