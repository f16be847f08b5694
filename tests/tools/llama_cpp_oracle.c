/* llama_cpp_oracle.c - llama.cpp itself, as a test oracle for bitgptc's GGUF import and
 * export: compiled at test time against the headers and prebuilt libraries of the npm
 * package node-llama-cpp (tests/e2e/llama_cpp_oracle.sh installs it; none of it is in
 * this repository).
 *   llama_cpp_oracle predict BINS MODEL.gguf IDS.txt     llama.cpp's greedy prediction after
 *                                                        each prefix ids[0..i], one a line,
 *                                                        teacher-forced in one batch
 *   llama_cpp_oracle quantize BINS IN.gguf OUT.gguf TYPE llama_model_quantize to q8_0, tq1_0
 *                                                        or tq2_0
 * BINS: the folder of llama.cpp's shared libraries (CPU backends are loaded from it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ggml-backend.h"
#include "llama.h"

static int predict(const char *model_path, const char *ids_path) {
  FILE *f = fopen(ids_path, "r");
  if (!f) { fprintf(stderr, "oracle: cannot read %s\n", ids_path); return 1; }
  int n = 0, cap = 1024;
  llama_token *ids = malloc(sizeof *ids * (size_t)cap);
  while (fscanf(f, "%d", &ids[n]) == 1)
    if (++n == cap) ids = realloc(ids, sizeof *ids * (size_t)(cap *= 2));
  fclose(f);
  struct llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = 0;
  struct llama_model *model = llama_model_load_from_file(model_path, mp);
  if (!model) { fprintf(stderr, "oracle: llama.cpp cannot load %s\n", model_path); return 1; }
  struct llama_context_params cp = llama_context_default_params();
  cp.n_ctx = (uint32_t)n;
  cp.n_batch = (uint32_t)n;
  cp.n_ubatch = (uint32_t)n;
  cp.n_threads = cp.n_threads_batch = 1;
  struct llama_context *ctx = llama_init_from_model(model, cp);
  if (!ctx) { fprintf(stderr, "oracle: no context\n"); return 1; }
  struct llama_batch batch = llama_batch_init(n, 0, 1);
  for (int i = 0; i < n; ++i) {
    batch.token[i] = ids[i];
    batch.pos[i] = i;
    batch.n_seq_id[i] = 1;
    batch.seq_id[i][0] = 0;
    batch.logits[i] = 1;
  }
  batch.n_tokens = n;
  if (llama_decode(ctx, batch) != 0) { fprintf(stderr, "oracle: llama_decode failed\n"); return 1; }
  const int vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
  for (int i = 0; i + 1 < n; ++i) {
    const float *logits = llama_get_logits_ith(ctx, i);
    int best = 0;
    for (int t = 1; t < vocab; ++t)
      if (logits[t] > logits[best]) best = t;
    printf("%d\n", best);
  }
  llama_batch_free(batch);
  llama_free(ctx);
  llama_model_free(model);
  free(ids);
  return 0;
}

static int quantize(const char *in, const char *out, const char *type) {
  llama_model_quantize_params p = llama_model_quantize_default_params();
  p.nthread = 1;
  if (!strcmp(type, "q8_0")) p.ftype = LLAMA_FTYPE_MOSTLY_Q8_0;
  else if (!strcmp(type, "tq1_0")) p.ftype = LLAMA_FTYPE_MOSTLY_TQ1_0;
  else if (!strcmp(type, "tq2_0")) p.ftype = LLAMA_FTYPE_MOSTLY_TQ2_0;
  else { fprintf(stderr, "oracle: unknown type %s\n", type); return 2; }
  return llama_model_quantize(in, out, &p) == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: see the top of llama_cpp_oracle.c\n"); return 2; }
  ggml_backend_load_all_from_path(argv[2]);
  llama_backend_init();
  int rc = 2;
  if (!strcmp(argv[1], "predict") && argc == 5) rc = predict(argv[3], argv[4]);
  else if (!strcmp(argv[1], "quantize") && argc == 6) rc = quantize(argv[3], argv[4], argv[5]);
  llama_backend_free();
  return rc;
}
