// The optimisation passes over an IR graph, by name, each switchable from the command
// line (--disable-pass NAME) so what it buys can be measured.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "ir/ir.h"

namespace bitgpt {

struct PassInfo {
  const char* name;
  const char* what;
};

// In the order they run.
const std::vector<PassInfo>& optimization_passes();

// Runs every enabled fusion pass in order; throws Error for an unknown name in disabled.
void run_fusion_passes(ir::Graph& g, const std::set<std::string>& disabled);

// Throws for a name that is not a pass.
void check_pass_names(const std::set<std::string>& names);

}  // namespace bitgpt
