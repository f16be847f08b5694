
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgmodel.h"

static int usage(const char *argv0) {
  fprintf(stderr, "usage: %s [--prompt TEXT] [-n TOKENS] [--temperature T] [--seed S]\n", argv0);
  return 2;
}

int main(int argc, char **argv) {
  const char *prompt = "";
  long n = 64;
  int32_t temperature = 0;
  uint64_t seed = 0;
  for (int i = 1; i < argc; ++i) {
    const char *arg = argv[i];
    if (i + 1 >= argc) return usage(argv[0]);
    const char *value = argv[++i];
    char *end = 0;
    if (strcmp(arg, "--prompt") == 0) {
      prompt = value;
    } else if (strcmp(arg, "-n") == 0) {
      n = strtol(value, &end, 10);
      if (*end || n < 0) return usage(argv[0]);
    } else if (strcmp(arg, "--temperature") == 0) {
      temperature = bgmodel_parse_temperature(value);
      if (temperature < 0) return usage(argv[0]);
    } else if (strcmp(arg, "--seed") == 0) {
      seed = strtoull(value, &end, 10);
      if (*end) return usage(argv[0]);
    } else {
      return usage(argv[0]);
    }
  }
  const int32_t len = (int32_t)strlen(prompt);
  int32_t *tokens = (int32_t *)malloc(sizeof(int32_t) * (size_t)(len + 1));
  int32_t bad = 0;
  const int32_t count = bgmodel_encode(prompt, len, tokens, len + 1, &bad);
  if (count < 0) {
    fprintf(stderr, "--prompt: byte offset %d: no token of the model's vocabulary covers byte 0x%02x\n", bad, (unsigned char)prompt[bad]);
    return 1;
  }
#ifdef bgmodel_RAM_BYTES
  /* --memory caller: the model's RAM is this buffer of ours */
  static uint64_t model_memory[(bgmodel_RAM_BYTES + 7) / 8];
  if (bgmodel_init(model_memory, (uint32_t)sizeof model_memory) != 0) return 1;
#endif
  bgmodel_reset(seed);
  fwrite(prompt, 1, (size_t)len, stdout);
  int full = bgmodel_feed(bgmodel_BOS) == -2;
  for (int32_t i = 0; i < count && !full; ++i) full = bgmodel_feed(tokens[i]) == -2;
  int32_t prev = count > 0 ? tokens[count - 1] : bgmodel_BOS;
  for (long i = 0; i < n && !full; ++i) {
    const int32_t next = bgmodel_next(temperature);
    int32_t piece_len = 0;
    const char *piece = bgmodel_decode(prev, next, &piece_len);
    fwrite(piece, 1, (size_t)piece_len, stdout);
    prev = next;
    if (i + 1 < n) full = bgmodel_feed(next) == -2;
  }
  printf("\nlogits-checksum: %016" PRIx64 "\n", bgmodel_logits_checksum());
  free(tokens);
  return 0;
}
