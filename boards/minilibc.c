/* memcpy/memset/memmove/memcmp for -nostdlib firmware: GCC may emit calls
 * to them (struct copies, zeroing) and kernels may use them. Unused ones are
 * dropped by --gc-sections.
 *
 * memcpy and memset move 32-bit words where both pointers can be aligned
 * alike (bytes up to the boundary, then four words per step, then words,
 * then the tail bytes); otherwise bytes. Word access goes through a may_alias
 * type, so it is defined for any object type. Every word access is aligned
 * (the word path runs only once the destination is aligned and the source is
 * aligned alike), so this is safe on ARMv6-M (Cortex-M0), which has no
 * unaligned ldr/str. */
#include <stddef.h>
#include <stdint.h>

#define NO_LIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))

typedef uint32_t word_t __attribute__((may_alias));

NO_LIBCALL void *memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (n >= 8 && (((uintptr_t)d ^ (uintptr_t)s) & 3u) == 0) {
        word_t *dw;
        const word_t *sw;
        for (; ((uintptr_t)d & 3u) != 0; --n) *d++ = *s++;
        dw = (word_t *)(void *)d;
        sw = (const word_t *)(const void *)s;
        for (; n >= 16; n -= 16, dw += 4, sw += 4) {
            const word_t a = sw[0], b = sw[1], c = sw[2], e = sw[3];
            dw[0] = a;
            dw[1] = b;
            dw[2] = c;
            dw[3] = e;
        }
        for (; n >= 4; n -= 4) *dw++ = *sw++;
        d = (uint8_t *)dw;
        s = (const uint8_t *)sw;
    }
    while (n--) *d++ = *s++;
    return dst;
}

NO_LIBCALL void *memmove(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (d < s) { while (n--) *d++ = *s++; }
    else { d += n; s += n; while (n--) *--d = *--s; }
    return dst;
}

NO_LIBCALL void *memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    if (n >= 8) {
        const word_t v = (uint32_t)(uint8_t)c * 0x01010101u;
        word_t *dw;
        for (; ((uintptr_t)d & 3u) != 0; --n) *d++ = (uint8_t)c;
        dw = (word_t *)(void *)d;
        for (; n >= 16; n -= 16, dw += 4) {
            dw[0] = v;
            dw[1] = v;
            dw[2] = v;
            dw[3] = v;
        }
        for (; n >= 4; n -= 4) *dw++ = v;
        d = (uint8_t *)dw;
    }
    while (n--) *d++ = (uint8_t)c;
    return dst;
}

NO_LIBCALL int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (; n; n--, x++, y++) if (*x != *y) return *x - *y;
    return 0;
}
