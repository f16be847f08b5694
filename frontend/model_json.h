// Loads and validates the native checkpoint (docs/model-format.md): model.json and its
// weights sidecar. Throws bitgpt::Error naming the file and field on any defect.
#pragma once

#include <string>

#include "ir/model.h"

namespace bitgpt {

// The version of model.json this bitgptc reads and writes.
constexpr int kModelFormatVersion = 1;

Model load_model_json(const std::string& path);

// Writes `model` as <dir>/<stem>.json + <dir>/<stem>.weights.bin; quantised tensors keep
// their codes and scales, per-row when a tensor has one scale per row.
void write_model_json(const Model& model, const std::string& json_path);

uint64_t fnv1a64(const uint8_t* data, size_t n, uint64_t h = 0xcbf29ce484222325ull);

}  // namespace bitgpt
