// A Hugging Face model folder: config.json, the weights as model.safetensors (or shards
// listed by model.safetensors.index.json) and tokenizer.json.
//  - architectures LlamaForCausalLM and BitNetForCausalLM / BitnetForCausalLM (sub-norms
//    when the folder has them), SwiGLU ("silu"), no biases, no rope scaling;
//  - q_proj and k_proj rows in Hugging Face's rotate-half layout (frontend/rotary_layout.h);
//  - BitNet weights packed four to a byte (U8 [out/4, in], with weight_scale: real weight
//    = code / weight_scale for linear_class "bitlinear", code * weight_scale for
//    "autobitlinear"), or float latent weights, ternarised by absmean per matrix; float
//    Llama weights stay float (--quantize ternary ternarises them);
//  - tokenizer.json of model type BPE, SentencePiece style ("\u2581" for a space, byte
//    fallback), merge ranks as scores; or, when config.json says "bitgptc_tokenizer":
//    "table", this compiler's greedy longest-match table (training/export.py writes it).
// docs/model-format.md ("Hugging Face folders") gives the details and the limits.
#pragma once

#include <map>
#include <string>

#include "ir/model.h"

namespace bitgpt {

// A folder holding config.json, or a path to a file named config.json.
bool looks_like_hf_folder(const std::string& path);

// Throws Error naming the file, the key or tensor, and what was expected.
Model load_hf_folder(const std::string& path);

// The files of the folder for m, name -> content: config.json, model.safetensors and
// tokenizer.json. Ternary layer matrices with one scale are packed as BitNet's
// (linear_class "autobitlinear", so the scale is stored as it is) and come back with the
// same codes and scale; every other tensor is written as F32 values (binary matrices and
// a one-magnitude classifier come back as binary or ternary by whether a value is zero;
// int8 ones as floats, which the compiler quantises to int8 again). Throws Error for what
// the layout cannot express (per-row scales, float matrices beside ternary ones, not a
// Llama).
std::map<std::string, std::string> hf_folder_files(const Model& m);

// What the folder's tokenizer.json cannot say exactly, for a warning ("" when nothing):
// its merges are a strict order, so BPE tokens of equal score (which merge leftmost
// first) get ranks by id, and a text where two of them compete may split otherwise.
std::string hf_folder_caveats(const Model& m);

}  // namespace bitgpt
