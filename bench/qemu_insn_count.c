/* qemu_insn_count.c - a QEMU TCG plugin that counts executed guest instructions exactly.
 *
 * Every translated instruction gets an inline 64-bit add, so the count is exact and
 * repeatable (no sampling, no timing). At exit the total is written to the file given as
 * out=PATH, or to QEMU's log. With profile=PATH it also writes "address count" for every
 * executed instruction in the 4 MiB of code memory from profile_base=HEX (default 0, the
 * Arm boards' flash; 20400000 for RISC-V's sifive_e), for attributing counts to functions
 * with the ELF's symbol table (bench/profile_functions.sh).
 *   qemu-system-arm ... -plugin build/bench/libqemu_insn_count.so,out=insns.txt
 *
 * Debian ships no qemu-plugin.h, so the few API entries used are declared here; they
 * match QEMU's plugin API version 1 (QEMU 7.x), which QEMU checks at load time. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLUGIN_EXPORT __attribute__((visibility("default")))

typedef uint64_t qemu_plugin_id_t;
struct qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 = 0 };

typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn, enum qemu_plugin_op op, void *ptr, uint64_t imm);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
void qemu_plugin_outs(const char *string);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);

PLUGIN_EXPORT int qemu_plugin_version = 1;

static uint64_t executed; /* the boards are single-core */
static char out_path[4096], profile_path[4096];
static uint64_t profile_base;

#define PROFILE_SPAN (4u << 20)             /* bytes of code address space profiled */
static uint64_t per_halfword[PROFILE_SPAN / 2]; /* Thumb and RVC instructions are 2-byte aligned */

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  size_t i, n = qemu_plugin_tb_n_insns(tb);
  (void)id;
  for (i = 0; i < n; ++i) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &executed, 1);
    if (profile_path[0]) {
      uint64_t pc = qemu_plugin_insn_vaddr(insn);
      if (!profile_base) pc &= 0x0FFFFFFFu; /* fold the Arm boards' secure aliases */
      if (pc >= profile_base && pc - profile_base < PROFILE_SPAN)
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &per_halfword[(pc - profile_base) / 2], 1);
    }
  }
}

static void report(qemu_plugin_id_t id, void *userdata) {
  char line[64];
  (void)id;
  (void)userdata;
  snprintf(line, sizeof line, "instructions: %" PRIu64 "\n", executed);
  if (profile_path[0]) {
    FILE *f = fopen(profile_path, "w");
    size_t i;
    for (i = 0; f && i < PROFILE_SPAN / 2; ++i)
      if (per_halfword[i]) fprintf(f, "%" PRIx64 " %" PRIu64 "\n", profile_base + i * 2, per_halfword[i]);
    if (f) fclose(f);
  }
  if (out_path[0]) {
    FILE *f = fopen(out_path, "w");
    if (f) {
      fputs(line, f);
      fclose(f);
      return;
    }
  }
  qemu_plugin_outs(line);
}

PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const struct qemu_info_t *info, int argc, char **argv) {
  int i;
  (void)info;
  for (i = 0; i < argc; ++i) {
    if (strncmp(argv[i], "out=", 4) == 0 && strlen(argv[i] + 4) < sizeof out_path) strcpy(out_path, argv[i] + 4);
    else if (strncmp(argv[i], "profile=", 8) == 0 && strlen(argv[i] + 8) < sizeof profile_path) strcpy(profile_path, argv[i] + 8);
    else if (strncmp(argv[i], "profile_base=", 13) == 0) profile_base = strtoull(argv[i] + 13, NULL, 16);
    else return -1; /* unknown argument */
  }
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  qemu_plugin_register_atexit_cb(id, report, NULL);
  return 0;
}
