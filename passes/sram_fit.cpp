#include "passes/sram_fit.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <vector>

#include "support/diagnostics.h"

namespace bitgpt {

std::string describe_cost(const SramCost& c) {
  const std::string prompt = c.prompt ? fmt::format(" + prompt buffer {}", c.prompt) : "";
  return fmt::format("arena {} + KV cache {}{} + runtime state {} + stack {} = {} bytes", c.arena, c.kv_cache, prompt, c.state, c.stack, c.total());
}

namespace {

// The largest window in [1, max] that fits, or 0.
int64_t largest_window(const FitRequest& req, int bits, const SramCostFn& cost) {
  if (cost(1, bits).total() > req.budget) return 0;
  int64_t lo = 1, hi = req.max_window;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo + 1) / 2;
    if (cost(mid, bits).total() <= req.budget) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

}  // namespace

FitResult fit_sram(const FitRequest& req, const SramCostFn& cost) {
  const std::vector<int> bit_choices = req.kv_bits ? std::vector<int>{*req.kv_bits} : std::vector<int>{8, 4};
  FitResult r;
  if (req.window) {
    for (int bits : bit_choices) {
      if (cost(*req.window, bits).total() <= req.budget) {
        r.window = *req.window;
        r.kv_bits = bits;
        r.cost = cost(r.window, bits);
        r.reason = fmt::format("window {} pinned by --window; {}-bit KV cache {}", r.window, bits,
                               req.kv_bits ? "pinned by --kv-bits" : (bits == 8 ? "fits" : "because 8-bit does not fit"));
        return r;
      }
    }
  } else {
    int64_t best8 = 0, best4 = 0;
    for (int bits : bit_choices) (bits == 8 ? best8 : best4) = largest_window(req, bits, cost);
    const int64_t enough = std::min(req.max_window, kPreferInt8Window);
    if (best8 > 0 && (best8 >= enough || best8 >= best4)) {
      r.window = best8;
      r.kv_bits = 8;
    } else if (best4 > 0) {
      r.window = best4;
      r.kv_bits = 4;
    }
    if (r.window > 0) {
      r.cost = cost(r.window, r.kv_bits);
      const bool capped = r.window == req.max_window;
      r.reason = fmt::format("window {}: {}", r.window,
                             capped ? "the model's whole training context (max_seq_len)" : fmt::format("the largest that fits {} bytes", req.budget));
      if (req.kv_bits) r.reason += fmt::format("; {}-bit KV cache pinned by --kv-bits", r.kv_bits);
      else if (r.kv_bits == 8) r.reason += best4 > best8 ? fmt::format("; 8-bit KV cache (4-bit would allow {}, but {} slots at 8 bits are enough)", best4, best8) : "; 8-bit KV cache";
      else r.reason += fmt::format("; 4-bit KV cache, because 8-bit reaches only window {}", best8);
      return r;
    }
  }

  // Nothing fits: say what was asked, what it costs, and what would fit.
  const int64_t w = req.window.value_or(1);
  const int bits = bit_choices.front();
  std::string msg = fmt::format("--sram {}: the plan does not fit. Window {} with a {}-bit KV cache needs {}, {} bytes over the budget.",
                                req.budget, w, bits, describe_cost(cost(w, bits)), cost(w, bits).total() - req.budget);
  std::vector<std::string> alternatives;
  for (int b : {8, 4}) {
    const int64_t best = largest_window(req, b, cost);
    if (best > 0) alternatives.push_back(fmt::format("window {} fits with --kv-bits {}", best, b));
  }
  for (int b : bit_choices)
    alternatives.push_back(fmt::format("window {} at {} bits fits with --sram {}", w, b, cost(w, b).total()));
  msg += " What would fit: " + fmt::format("{}", fmt::join(alternatives, "; ")) + ".";
  throw Error(msg);
}

}  // namespace bitgpt
