// Buffers and their live ranges. Values an alias map puts together share one buffer;
// a buffer is live from the first step that writes any of its values to the last step
// that reads one. Scratch values are live only at their op's step.
#pragma once

#include <string>
#include <vector>

#include "ir/ir.h"

namespace bitgpt {

struct Buffer {
  std::string name;
  int64_t bytes = 0, alignment = 4;
  int first_step = 0, last_step = 0;  // inclusive op indices
  std::vector<ir::ValueId> values;
};

struct Liveness {
  std::vector<Buffer> buffers;
  std::vector<int> buffer_of;  // per value id; -1 for values no op touches
};

// alias[v] is the value whose buffer v shares (alias[v] == v for its own buffer).
Liveness compute_liveness(const ir::Graph& g, const std::vector<ir::ValueId>& alias);

// The identity alias map: every value its own buffer.
std::vector<ir::ValueId> no_aliasing(const ir::Graph& g);

}  // namespace bitgpt
