// Post-training quantisation of a loaded model's transformer matrices.
#pragma once

#include "ir/model.h"

namespace bitgpt {

// BitNet b1.58 absmean ternarisation of every layer matrix (wq ... w3): one scale per
// matrix, s = mean|W|, codes clamp(round(W / s), -1, 1). Embeddings, norms and a separate
// classifier are left as they are. Returns the number of matrices changed.
int ternarize_matrices(Model& model);

}  // namespace bitgpt
