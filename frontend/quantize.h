// Turning a loaded model's float matrices into ternary ones: exactly, when the values
// already are one scale times {-1, 0, +1} (how llama.cpp's converter writes BitNet
// matrices whose rows do not fill TQ blocks), or by BitNet b1.58's absmean rule (latent
// weights of a BitNet checkpoint, or --quantize ternary on a float model).
#pragma once

#include "ir/model.h"

namespace bitgpt {

// If every non-zero value of F32 tensor t has one magnitude s, t becomes ternary codes
// with scale s (binary when no value is zero) and true is returned; otherwise t is left
// as it is.
bool ternary_from_one_magnitude(Tensor& t);

// BitNet b1.58 absmean ternarisation of one matrix: one scale, s = mean|W|, codes
// clamp(round(W / s), -1, 1).
void ternarize_absmean(Tensor& t);

// ternarize_absmean on every layer matrix (wq ... w3) that is not ternary yet. Embeddings,
// norms and a separate classifier are left as they are. Returns the number changed.
int ternarize_matrices(Model& model);

}  // namespace bitgpt
