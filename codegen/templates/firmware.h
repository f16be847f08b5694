/* firmware.h - what startup.c offers the firmware's main. */
#ifndef BITGPT_FIRMWARE_H
#define BITGPT_FIRMWARE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

void fw_putc(char ch);
void fw_write(const char *s, int32_t n);
void fw_puts(const char *s);
void fw_put_dec(uint32_t v);
void fw_put_hex64(uint64_t v);
__attribute__((noreturn)) void fw_exit(int code);
uint32_t fw_stack_high_water(void);
uint32_t fw_static_ram_bytes(void);

#ifdef __cplusplus
}
#endif

#endif
