// Lowering: a loaded Model becomes the unfused IR graph plus its integer constants.
#pragma once

#include "ir/ir.h"
#include "ir/model.h"

namespace bitgpt {

// window and kv_bits fix the attention buffers' sizes and the score multiplier.
ir::Graph lower_model(const Model& model, int64_t window, int kv_bits);

}  // namespace bitgpt
