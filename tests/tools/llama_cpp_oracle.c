/* llama_cpp_oracle.c - llama.cpp itself, as a test oracle for bitgptc's GGUF import and
 * export: compiled at test time against the headers and prebuilt libraries of the npm
 * package node-llama-cpp (tests/e2e/llama_cpp_oracle.sh installs it; none of it is in
 * this repository).
 *   llama_cpp_oracle predict BINS MODEL.gguf IDS.txt     llama.cpp's greedy prediction after
 *                                                        each prefix ids[0..i], one a line,
 *                                                        teacher-forced in one batch
 *   llama_cpp_oracle quantize BINS IN.gguf OUT.gguf TYPE llama_model_quantize to q8_0, tq1_0,
 *                                                        tq2_0 or q1_0
 *   llama_cpp_oracle score BINS MODEL.gguf IDS.txt SEGMENT   bitgptc eval's protocol: the ids
 *                                                        in segments of SEGMENT, each after
 *                                                        BOS, every token predicted; prints
 *                                                        the greedy choice at each position,
 *                                                        then "nats N tokens T" on stderr
 *   llama_cpp_oracle generate BINS MODEL.gguf N         decode: BOS, then N greedy tokens one at
 *                                                        a time, one thread (what a chat loop
 *                                                        does; bench/host_vs_llama_cpp.sh times
 *                                                        it); prints the ids
 * BINS: the folder of llama.cpp's shared libraries (CPU backends are loaded from it). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ggml-backend.h"
#include "llama.h"

static llama_token *read_ids(const char *path, int *n) {
  FILE *f = fopen(path, "r");
  if (!f) { fprintf(stderr, "oracle: cannot read %s\n", path); exit(1); }
  int cap = 1024;
  llama_token *ids = malloc(sizeof *ids * (size_t)cap);
  *n = 0;
  while (fscanf(f, "%d", &ids[*n]) == 1)
    if (++*n == cap) ids = realloc(ids, sizeof *ids * (size_t)(cap *= 2));
  fclose(f);
  return ids;
}

static struct llama_model *load(const char *path) {
  struct llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = 0;
  struct llama_model *model = llama_model_load_from_file(path, mp);
  if (!model) { fprintf(stderr, "oracle: llama.cpp cannot load %s\n", path); exit(1); }
  return model;
}

/* Runs tokens[0..n) from position 0 of a fresh context: for each position, the greedy
 * choice (printed) and, when targets is given, -log p(targets[i]) added to *nats. */
static void run(struct llama_model *model, const llama_token *tokens, int n, const llama_token *targets, double *nats) {
  struct llama_context_params cp = llama_context_default_params();
  cp.n_ctx = cp.n_batch = cp.n_ubatch = (uint32_t)n;
  cp.n_threads = cp.n_threads_batch = 1;
  struct llama_context *ctx = llama_init_from_model(model, cp);
  if (!ctx) { fprintf(stderr, "oracle: no context\n"); exit(1); }
  struct llama_batch batch = llama_batch_init(n, 0, 1);
  for (int i = 0; i < n; ++i) {
    batch.token[i] = tokens[i];
    batch.pos[i] = i;
    batch.n_seq_id[i] = 1;
    batch.seq_id[i][0] = 0;
    batch.logits[i] = 1;
  }
  batch.n_tokens = n;
  if (llama_decode(ctx, batch) != 0) { fprintf(stderr, "oracle: llama_decode failed\n"); exit(1); }
  const int vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
  for (int i = 0; i < n; ++i) {
    const float *logits = llama_get_logits_ith(ctx, i);
    int best = 0;
    for (int t = 1; t < vocab; ++t)
      if (logits[t] > logits[best]) best = t;
    printf("%d\n", best);
    if (targets) {
      double sum = 0;
      for (int t = 0; t < vocab; ++t) sum += exp((double)logits[t] - logits[best]);
      *nats += log(sum) - ((double)logits[targets[i]] - logits[best]);
    }
  }
  llama_batch_free(batch);
  llama_free(ctx);
}

static int predict(const char *model_path, const char *ids_path) {
  int n;
  llama_token *ids = read_ids(ids_path, &n);
  struct llama_model *model = load(model_path);
  run(model, ids, n - 1, NULL, NULL); /* the prediction after each prefix but the whole */
  llama_model_free(model);
  free(ids);
  return 0;
}

static int score(const char *model_path, const char *ids_path, int segment) {
  int n;
  llama_token *ids = read_ids(ids_path, &n);
  struct llama_model *model = load(model_path);
  const llama_token bos = llama_vocab_bos(llama_model_get_vocab(model));
  llama_token *input = malloc(sizeof *input * (size_t)segment);
  double nats = 0;
  for (int begin = 0; begin < n; begin += segment) {
    const int len = n - begin < segment ? n - begin : segment;
    input[0] = bos;
    memcpy(input + 1, ids + begin, sizeof *input * (size_t)(len - 1));
    run(model, input, len, ids + begin, &nats);
  }
  fprintf(stderr, "nats %.6f tokens %d\n", nats, n);
  llama_model_free(model);
  free(input);
  free(ids);
  return 0;
}

static int quantize(const char *in, const char *out, const char *type) {
  llama_model_quantize_params p = llama_model_quantize_default_params();
  p.nthread = 1;
  if (!strcmp(type, "q8_0")) p.ftype = LLAMA_FTYPE_MOSTLY_Q8_0;
  else if (!strcmp(type, "tq1_0")) p.ftype = LLAMA_FTYPE_MOSTLY_TQ1_0;
  else if (!strcmp(type, "tq2_0")) p.ftype = LLAMA_FTYPE_MOSTLY_TQ2_0;
  else if (!strcmp(type, "q1_0")) p.ftype = LLAMA_FTYPE_MOSTLY_Q1_0;
  else { fprintf(stderr, "oracle: unknown type %s\n", type); return 2; }
  return llama_model_quantize(in, out, &p) == 0 ? 0 : 1;
}

static int generate(const char *model_path, int n) {
  struct llama_model *model = load(model_path);
  struct llama_context_params cp = llama_context_default_params();
  cp.n_ctx = (uint32_t)n + 1;
  cp.n_batch = cp.n_ubatch = 1;
  cp.n_threads = cp.n_threads_batch = 1;
  struct llama_context *ctx = llama_init_from_model(model, cp);
  if (!ctx) { fprintf(stderr, "oracle: no context\n"); exit(1); }
  const struct llama_vocab *v = llama_model_get_vocab(model);
  const int vocab = llama_vocab_n_tokens(v);
  llama_token token = llama_vocab_bos(v);
  for (int i = 0; i < n; ++i) {
    struct llama_batch one = llama_batch_get_one(&token, 1);
    if (llama_decode(ctx, one) != 0) { fprintf(stderr, "oracle: llama_decode failed at token %d\n", i); exit(1); }
    const float *logits = llama_get_logits_ith(ctx, -1);
    int best = 0;
    for (int t = 1; t < vocab; ++t)
      if (logits[t] > logits[best]) best = t;
    token = best;
    printf("%d\n", best);
  }
  llama_free(ctx);
  llama_model_free(model);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: see the top of llama_cpp_oracle.c\n"); return 2; }
  ggml_backend_load_all_from_path(argv[2]);
  llama_backend_init();
  int rc = 2;
  if (!strcmp(argv[1], "predict") && argc == 5) rc = predict(argv[3], argv[4]);
  else if (!strcmp(argv[1], "quantize") && argc == 6) rc = quantize(argv[3], argv[4], argv[5]);
  else if (!strcmp(argv[1], "generate") && argc == 5) rc = generate(argv[3], atoi(argv[4]));
  else if (!strcmp(argv[1], "score") && argc == 6) rc = score(argv[3], argv[4], atoi(argv[5]));
  llama_backend_free();
  return rc;
}
