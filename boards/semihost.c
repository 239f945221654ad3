#include "semihost.h"

void sh_put_u32(uint32_t v)
{
    char buf[12];
    int i = 11;
    buf[i] = 0;
    do { buf[--i] = (char)('0' + v % 10u); v /= 10u; } while (v);
    sh_puts(&buf[i]);
}

void sh_put_x32(uint32_t v)
{
    char buf[9];
    int i;
    for (i = 7; i >= 0; i--, v >>= 4) buf[i] = "0123456789abcdef"[v & 15u];
    buf[8] = 0;
    sh_puts(buf);
}

void sh_kv(const char *key, uint32_t v)
{
    sh_puts(" "); sh_puts(key); sh_puts("="); sh_put_u32(v);
}

/* Hex in chunks of 32 bytes per SYS_WRITE0 call (small stack buffer). */
void sh_put_hex(const int8_t *p, uint32_t n)
{
    static const char digits[] = "0123456789abcdef";
    char buf[65];
    uint32_t i = 0, k = 0;
    while (i < n) {
        uint8_t b = (uint8_t)p[i++];
        buf[k++] = digits[b >> 4];
        buf[k++] = digits[b & 15u];
        if (k == 64u || i == n) { buf[k] = 0; sh_puts(buf); k = 0; }
    }
}
