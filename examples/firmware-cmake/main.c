/* main.c - the firmware engineer's own program: tells a story with the model and prints
 * it through the debugger (semihosting), then how it ended. Plain C; the model is a
 * library with a C API (storyteller.h). */
#include <stdint.h>
#include <string.h>

#include "firmware.h"
#include "storyteller.h"

#ifndef PROMPT
#define PROMPT "Once upon a time"
#endif
#ifndef TOKENS
#define TOKENS 32
#endif

int main(void) {
  static const char prompt[] = PROMPT;
  static int32_t tokens[sizeof prompt + 1];
  int32_t bad = 0, prev = storyteller_BOS, i;
  const int32_t count = storyteller_encode(prompt, (int32_t)strlen(prompt), tokens, (int32_t)(sizeof prompt + 1), &bad);
  if (count < 0) {
    fw_puts("the prompt has a byte no token covers\n");
    fw_exit(1);
  }
  storyteller_reset(0);
  storyteller_feed(storyteller_BOS);
  for (i = 0; i < count; ++i) storyteller_feed(tokens[i]);
  if (count > 0) prev = tokens[count - 1];
  fw_puts(prompt);
  for (i = 0; i < TOKENS; ++i) {
    int32_t len = 0;
    const int32_t next = storyteller_next(0);
    const char *piece = storyteller_decode(prev, next, &len);
    fw_write(piece, len);
    prev = next;
    if (i + 1 < TOKENS && storyteller_feed(next) != 0) break;
  }
  fw_puts("\nlogits-checksum: ");
  fw_put_hex64(storyteller_logits_checksum());
  fw_puts("\n");
  fw_exit(0);
}
