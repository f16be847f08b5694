// Checks a --report-json plan: the SRAM total is the sum of its parts and within the
// budget, no two buffers live at the same step overlap in the arena, and the arena is
// at its lower bound. With --min-window N, also that the window has at least N slots.
// With --sram-peak N (a firmware's measured peak), also that N lies
// within the budget and the plan's total. Exits non-zero with the reason otherwise.
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

int main(int argc, char** argv) {
  const bool with_peak = argc == 4 && std::string(argv[2]) == "--sram-peak";
  const bool with_window = argc == 4 && std::string(argv[2]) == "--min-window";
  const bool with_flash = argc == 4 && std::string(argv[2]) == "--flash-bytes";
  if (argc != 2 && !with_peak && !with_window && !with_flash) {
    std::cerr << "usage: check_plan plan.json [--sram-peak BYTES | --min-window SLOTS | --flash-bytes BYTES]\n";
    return 2;
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(std::ifstream(argv[1]));
  } catch (const std::exception& e) {
    std::cerr << argv[1] << ": " << e.what() << "\n";
    return 1;
  }
  int errors = 0;
  auto check = [&](bool ok, const std::string& what) {
    if (!ok) {
      std::cerr << argv[1] << ": " << what << "\n";
      ++errors;
    }
  };
  const auto& sram = j["sram"];
  const int64_t total = sram["total_bytes"], budget = sram["budget_bytes"];
  check(total <= budget, "sram.total_bytes exceeds the budget");
  check(total == sram["arena_bytes"].get<int64_t>() + sram["kv_cache_bytes"].get<int64_t>() + sram["prompt_bytes"].get<int64_t>() +
                     sram["state_bytes"].get<int64_t>() + sram["stack_bytes"].get<int64_t>(),
        "sram.total_bytes is not arena + KV cache + prompt buffer + state + stack");
  check(j["arena"]["bytes"] == sram["arena_bytes"], "arena.bytes differs from sram.arena_bytes");
  check(j["arena"]["bytes"] == j["arena"]["lower_bound_bytes"] || j["arena"].contains("gap_reason"),
        "arena.bytes is above arena.lower_bound_bytes and the report does not say why");
  check(j["arena"]["bytes"] >= j["arena"]["lower_bound_bytes"], "arena.bytes is below its lower bound: the bound is wrong");
  const auto& bufs = j["buffers"];
  for (size_t a = 0; a < bufs.size(); ++a) {
    const int64_t ao = bufs[a]["offset"], ab = bufs[a]["bytes"];
    check(ao >= 0 && ao + ab <= j["arena"]["bytes"].get<int64_t>(), "buffer " + bufs[a]["name"].get<std::string>() + " lies outside the arena");
    for (size_t b = a + 1; b < bufs.size(); ++b) {
      const bool together = bufs[a]["first_step"] <= bufs[b]["last_step"] && bufs[b]["first_step"] <= bufs[a]["last_step"];
      const int64_t bo = bufs[b]["offset"], bb = bufs[b]["bytes"];
      const bool apart = ao + ab <= bo || bo + bb <= ao;
      check(!together || apart, "buffers " + bufs[a]["name"].get<std::string>() + " and " + bufs[b]["name"].get<std::string>() +
                                    " are live at the same step and overlap");
    }
  }
  if (with_window) {
    const int64_t window = j["context"]["window"];
    check(window >= std::stoll(argv[3]), "context.window " + std::to_string(window) + " is below " + argv[3]);
  }
  if (with_flash) {  // the code-size model must be an upper bound: the budget check relies on it
    const int64_t used = std::stoll(argv[3]), planned = j["flash"]["total_bytes"];
    check(used <= planned, "measured flash " + std::to_string(used) + " exceeds the plan's flash.total_bytes " + std::to_string(planned) +
                               " (the code estimate " + std::to_string(j["flash"]["code_estimate_bytes"].get<int64_t>()) + " is too low)");
    if (errors == 0) std::cout << argv[1] << ": measured flash " << used << " within the plan (" << planned << ")\n";
    return errors == 0 ? 0 : 1;
  }
  if (with_peak) {
    const int64_t peak = std::stoll(argv[3]);
    check(peak <= budget, "measured SRAM peak " + std::to_string(peak) + " exceeds the budget " + std::to_string(budget));
    check(peak <= total, "measured SRAM peak " + std::to_string(peak) + " exceeds the plan's sram.total_bytes " + std::to_string(total));
    if (errors == 0) std::cout << argv[1] << ": measured SRAM peak " << peak << " within the plan (" << total << ") and budget (" << budget << ")\n";
    return errors == 0 ? 0 : 1;
  }
  if (errors == 0) std::cout << argv[1] << ": plan ok (" << total << " of " << budget << " bytes, window " << j["context"]["window"] << ")\n";
  return errors == 0 ? 0 : 1;
}
