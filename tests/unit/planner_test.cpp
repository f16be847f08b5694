// The arena planner, liveness and in-place aliasing, alone.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "passes/greedy_planner.h"
#include "passes/sram_fit.h"

namespace {

using namespace bitgpt;

void expect_no_overlap(const std::vector<Buffer>& bufs, const ArenaPlan& plan) {
  for (size_t i = 0; i < bufs.size(); ++i) {
    EXPECT_EQ(plan.offsets[i] % bufs[i].alignment, 0);
    EXPECT_LE(plan.offsets[i] + bufs[i].bytes, plan.bytes);
    for (size_t j = i + 1; j < bufs.size(); ++j) {
      const bool together = bufs[i].first_step <= bufs[j].last_step && bufs[j].first_step <= bufs[i].last_step;
      const bool apart = plan.offsets[i] + bufs[i].bytes <= plan.offsets[j] || plan.offsets[j] + bufs[j].bytes <= plan.offsets[i];
      EXPECT_TRUE(!together || apart) << i << " and " << j;
    }
  }
}

Buffer buf(int64_t bytes, int first, int last) {
  Buffer b;
  b.bytes = bytes;
  b.first_step = first;
  b.last_step = last;
  return b;
}

TEST(GreedyPlanner, ChainReachesLowerBound) {
  // a residual stream live throughout, and a chain of temporaries
  const std::vector<Buffer> bufs = {buf(512, 0, 9), buf(132, 1, 2), buf(1536, 2, 3), buf(388, 3, 4), buf(512, 5, 6), buf(128, 6, 8)};
  const ArenaPlan p = plan_arena_greedy(bufs);
  expect_no_overlap(bufs, p);
  EXPECT_EQ(p.lower_bound, align_up(512 + 1536 + 388, 8));  // arenas are 8-byte multiples
  EXPECT_EQ(p.bytes, p.lower_bound);
}

// 1-30 buffers of 4-800 bytes (a fifth 8-aligned), each live 1-10 steps from a step < 40.
std::vector<Buffer> random_buffers(std::mt19937& rng) {
  std::vector<Buffer> bufs;
  const int n = 1 + static_cast<int>(rng() % 30);
  for (int i = 0; i < n; ++i) {
    const int first = static_cast<int>(rng() % 40);
    Buffer b = buf(4 * (1 + static_cast<int64_t>(rng() % 200)), first, first + static_cast<int>(rng() % 10));
    if (rng() % 5 == 0) b.alignment = 8;
    bufs.push_back(b);
  }
  return bufs;
}

TEST(GreedyPlanner, RandomLifetimesNeverOverlap) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 200; ++trial) {
    const std::vector<Buffer> bufs = random_buffers(rng);
    const ArenaPlan p = plan_arena_greedy(bufs);
    expect_no_overlap(bufs, p);
    EXPECT_GE(p.bytes, p.lower_bound - 8);
  }
}

// First fit in one order, written plainly: the planner's first two orders, with no early
// exit, bound what its search (which gives up on orders that cannot win) must return.
ArenaPlan first_fit(const std::vector<Buffer>& bufs, const std::vector<size_t>& order) {
  ArenaPlan plan;
  plan.offsets.assign(bufs.size(), -1);
  for (size_t i : order) {
    int64_t at = 0;
    for (bool moved = true; moved;) {  // up past every placed buffer it would overlap
      moved = false;
      at = align_up(at, bufs[i].alignment);
      for (size_t j = 0; j < bufs.size(); ++j) {
        const bool together = bufs[i].first_step <= bufs[j].last_step && bufs[j].first_step <= bufs[i].last_step;
        if (plan.offsets[j] >= 0 && together && at < plan.offsets[j] + bufs[j].bytes && plan.offsets[j] < at + bufs[i].bytes) {
          at = plan.offsets[j] + bufs[j].bytes;
          moved = true;
        }
      }
    }
    plan.offsets[i] = at;
    plan.bytes = std::max(plan.bytes, align_up(at + bufs[i].bytes, 8));
  }
  return plan;
}

std::vector<size_t> sorted_order(const std::vector<Buffer>& bufs, bool (*before)(const Buffer&, const Buffer&)) {
  std::vector<size_t> order(bufs.size());
  for (size_t i = 0; i < bufs.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return before(bufs[a], bufs[b]); });
  return order;
}

TEST(GreedyPlanner, SearchIsNoWorseThanPlainFirstFitAndKeepsTheFirstOfEqualPlans) {
  std::mt19937 rng(5);
  int improved = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const std::vector<Buffer> bufs = random_buffers(rng);
    const ArenaPlan largest = first_fit(bufs, sorted_order(bufs, [](const Buffer& a, const Buffer& b) { return a.bytes > b.bytes; }));
    const ArenaPlan earliest = first_fit(bufs, sorted_order(bufs, [](const Buffer& a, const Buffer& b) { return a.first_step < b.first_step; }));
    const ArenaPlan p = plan_arena_greedy(bufs);
    expect_no_overlap(bufs, p);
    EXPECT_LE(p.bytes, std::min(largest.bytes, earliest.bytes)) << "trial " << trial;
    // largest first is the first order tried, and only a strictly smaller arena replaces it
    if (p.bytes == largest.bytes) {
      EXPECT_EQ(p.offsets, largest.offsets) << "trial " << trial;
    }
    improved += p.bytes < largest.bytes;
  }
  EXPECT_GT(improved, 0);  // the search did find smaller arenas than the first order's
}

TEST(SramFit, PicksTheLargestWindowAndExplainsFailure) {
  // arena 1000, 100 bytes per int8 slot, 50 per int4 slot
  const SramCostFn cost = [](int64_t w, int bits) {
    SramCost c;
    c.arena = 1000;
    c.kv_cache = w * (bits == 8 ? 100 : 50);
    c.state = 24;
    c.stack = 500;
    return c;
  };
  FitRequest req;
  req.budget = 4000;
  req.max_window = 256;
  FitResult r = fit_sram(req, cost);
  EXPECT_EQ(r.kv_bits, 8);  // 8-bit reaches 24 slots, past the "enough" mark of 16
  EXPECT_EQ(r.window, 24);
  req.budget = 2600;
  r = fit_sram(req, cost);
  EXPECT_EQ(r.kv_bits, 4);  // 8-bit reaches only 10 slots; 4-bit 21
  EXPECT_EQ(r.window, 21);
  req.budget = 4000;
  req.max_window = 20;
  r = fit_sram(req, cost);
  EXPECT_EQ(r.kv_bits, 8);  // 8-bit already covers the whole context
  EXPECT_EQ(r.window, 20);
  req.window = 40;
  r = fit_sram(req, cost);
  EXPECT_EQ(r.kv_bits, 4);
  req.window.reset();
  req.budget = 1500;
  try {
    fit_sram(req, cost);
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("does not fit"), std::string::npos) << msg;
    EXPECT_NE(msg.find("--sram 1624"), std::string::npos) << msg;
  }
}

}  // namespace
