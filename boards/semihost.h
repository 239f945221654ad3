/* Minimal ARM semihosting (BKPT 0xAB on M-profile). No libc needed.
 * Adapted from the original QEMU harness (tests/qemu_harness). */
#ifndef TINYC_SEMIHOST_H
#define TINYC_SEMIHOST_H
#include <stdint.h>

#define SYS_WRITE0         0x04
#define SYS_EXIT_EXTENDED  0x20
#define ADP_Stopped_ApplicationExit 0x20026

static inline int sh_call(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static inline void sh_puts(const char *s) { sh_call(SYS_WRITE0, s); }

/* SYS_EXIT_EXTENDED: QEMU's process exit status = code & 0xff
 * (plain SYS_EXIT on AArch32 can only report 0 or 1). */
static inline __attribute__((noreturn)) void sh_exit(int code)
{
    uint32_t blk[2] = { ADP_Stopped_ApplicationExit, (uint32_t)code };
    sh_call(SYS_EXIT_EXTENDED, blk);
    for (;;) { }
}

void sh_put_u32(uint32_t v);                      /* decimal */
void sh_put_x32(uint32_t v);                      /* 8 hex digits */
void sh_kv(const char *key, uint32_t v);          /* " key=v" (leading space) */
void sh_put_hex(const int8_t *p, uint32_t n);     /* 2 lowercase hex digits per byte */
#endif
