#include "passes/greedy_planner.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <numeric>
#include <random>

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

namespace {

constexpr int kShuffledOrders = 400;

// For each buffer, the others live at some step with it: the only ones its offset must avoid.
std::vector<std::vector<size_t>> live_with(const std::vector<Buffer>& buffers) {
  std::vector<std::vector<size_t>> with(buffers.size());
  for (size_t i = 0; i < buffers.size(); ++i)
    for (size_t j = i + 1; j < buffers.size(); ++j)
      if (live_together(buffers[i], buffers[j])) {
        with[i].push_back(j);
        with[j].push_back(i);
      }
  return with;
}

// Places buffers in the given order, each at the lowest offset free for its lifetime.
// Gives up (returns false) as soon as the arena reaches give_up_at bytes: the arena only
// grows, so such an order cannot beat the plan that set the bound.
bool place_in_order(const std::vector<Buffer>& buffers, const std::vector<std::vector<size_t>>& with,
                    const std::vector<size_t>& order, int64_t give_up_at, ArenaPlan& plan) {
  plan.offsets.assign(buffers.size(), 0);
  plan.bytes = 0;
  std::vector<char> placed(buffers.size(), 0);
  std::vector<std::pair<int64_t, int64_t>> busy;  // [begin, end) of placed buffers live with b
  for (size_t i : order) {
    const Buffer& b = buffers[i];
    busy.clear();
    for (size_t j : with[i])
      if (placed[j]) busy.push_back({plan.offsets[j], plan.offsets[j] + buffers[j].bytes});
    std::sort(busy.begin(), busy.end());
    int64_t offset = 0;
    for (const auto& [begin, end] : busy) {
      if (align_up(offset, b.alignment) + b.bytes <= begin) break;
      offset = std::max(offset, end);
    }
    offset = align_up(offset, b.alignment);
    plan.offsets[i] = offset;
    plan.bytes = std::max(plan.bytes, align_up(offset + b.bytes, 8));
    if (plan.bytes >= give_up_at) return false;
    placed[i] = 1;
  }
  return true;
}

}  // namespace

ArenaPlan plan_arena_greedy(const std::vector<Buffer>& buffers) {
  // Greedy placement is order-sensitive; a few cheap orders, largest first being the
  // classic one, and the smallest arena wins.
  using Key = std::function<bool(const Buffer&, const Buffer&)>;
  const std::vector<Key> orders = {
      [](const Buffer& a, const Buffer& b) { return a.bytes > b.bytes; },
      [](const Buffer& a, const Buffer& b) { return a.first_step < b.first_step; },
      [](const Buffer& a, const Buffer& b) { return a.last_step - a.first_step > b.last_step - b.first_step; },
      [](const Buffer& a, const Buffer& b) {
        return a.bytes * (a.last_step - a.first_step + 1) > b.bytes * (b.last_step - b.first_step + 1);
      },
  };
  const int64_t bound = align_up(arena_lower_bound(buffers), 8);
  const std::vector<std::vector<size_t>> with = live_with(buffers);
  ArenaPlan best, plan;
  auto consider = [&](const std::vector<size_t>& order) {
    // Only a strictly smaller arena replaces the best one.
    const int64_t give_up_at = best.offsets.empty() ? INT64_MAX : best.bytes;
    if (place_in_order(buffers, with, order, give_up_at, plan)) std::swap(best, plan);
  };
  std::vector<size_t> order(buffers.size());
  for (const Key& key : orders) {
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return key(buffers[a], buffers[b]); });
    consider(order);
  }
  // Still above the bound: try shuffled orders, with a fixed seed so plans are repeatable.
  std::mt19937 rng(12345);
  for (int attempt = 0; attempt < kShuffledOrders && best.bytes > bound; ++attempt) {
    std::shuffle(order.begin(), order.end(), rng);
    consider(order);
  }
  best.offsets.resize(buffers.size());
  best.lower_bound = bound;
  return best;
}

}  // namespace bitgpt
