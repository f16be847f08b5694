#include "passes/greedy_planner.h"

#include <algorithm>
#include <numeric>

namespace bitgpt {

int64_t align_up(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

namespace {

bool live_together(const Buffer& a, const Buffer& b) {
  return a.first_step <= b.last_step && b.first_step <= a.last_step;
}

}  // namespace

int64_t arena_lower_bound(const std::vector<Buffer>& buffers) {
  int last = -1;
  for (const Buffer& b : buffers) last = std::max(last, b.last_step);
  int64_t best = 0;
  for (int s = 0; s <= last; ++s) {
    int64_t sum = 0;
    for (const Buffer& b : buffers)
      if (b.first_step <= s && s <= b.last_step) sum += align_up(b.bytes, 4);
    best = std::max(best, sum);
  }
  return best;
}

ArenaPlan plan_arena_greedy(const std::vector<Buffer>& buffers) {
  ArenaPlan plan;
  plan.offsets.assign(buffers.size(), 0);
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (buffers[a].bytes != buffers[b].bytes) return buffers[a].bytes > buffers[b].bytes;
    return buffers[a].first_step < buffers[b].first_step;
  });
  std::vector<size_t> placed;
  for (size_t i : order) {
    const Buffer& b = buffers[i];
    // candidate offsets: 0 and the end of every conflicting placed buffer, lowest first
    std::vector<std::pair<int64_t, int64_t>> busy;  // [begin, end) of conflicting buffers
    for (size_t j : placed)
      if (live_together(b, buffers[j])) busy.push_back({plan.offsets[j], plan.offsets[j] + buffers[j].bytes});
    std::sort(busy.begin(), busy.end());
    int64_t offset = 0;
    for (const auto& [begin, end] : busy) {
      if (align_up(offset, b.alignment) + b.bytes <= begin) break;
      offset = std::max(offset, end);
    }
    offset = align_up(offset, b.alignment);
    plan.offsets[i] = offset;
    plan.bytes = std::max(plan.bytes, align_up(offset + b.bytes, 8));
    placed.push_back(i);
  }
  plan.lower_bound = align_up(arena_lower_bound(buffers), 8);
  return plan;
}

}  // namespace bitgpt
