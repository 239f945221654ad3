/*
 * tinyc_dsp.h - the one set of DSP intrinsic wrappers of the kernels (TINYC_DSP, tinyc_nn.h:
 * Cortex-M4/M7/M33/M55): an unaligned word load and SXTB16 / SXTAB16 with the ROR #8 that
 * GCC 12 does not fold into them, and SSAT #16.  Each asm is one instruction with two or three
 * operands, so any register allocator (gcc, clang, any -O, float ABI, LTO) can satisfy it.
 * Included by tinyc_dot.h (dense int8 kernels), tinyc_fast.h (the fast kernels) and
 * tinyc_packed.h (packed weight formats).
 */
#ifndef TINYC_DSP_H
#define TINYC_DSP_H

#include <stdint.h>

#include "tinyc_nn.h"
#include "tinyc_requant.h"

#if defined(TINYC_DSP)
#include <arm_acle.h>

/* An unaligned 32-bit load (one LDR on v7E-M / v8-M); the builtin stays inline even under
 * -ffreestanding, where a plain memcpy would become a call. */
static inline uint32_t tinyc_load4(const int8_t *p)
{
    uint32_t v;
    __builtin_memcpy(&v, p, 4);
    return v;
}

/* {x[1], x[3]} sign-extended to int16 lanes: SXTB16 x, ROR #8. */
static inline int32_t tinyc_sxtb16_ror8(uint32_t x)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

/* a + {x[1], x[3]} per int16 lane: SXTAB16 a, x, ROR #8. */
static inline int32_t tinyc_sxtab16_ror8(int32_t a, uint32_t x)
{
    int32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
    return r;
}

/* x saturated to [-32768, 32767] (the ACLE __ssat macro trips -Wconversion in GCC 12). */
static inline int32_t tinyc_ssat16(int32_t x)
{
    int32_t r;
    __asm__("ssat %0, #16, %1" : "=r"(r) : "r"(x));
    return r;
}

/* An input offset in both int16 lanes (the SXTAB16 addend). */
static inline int32_t tinyc_offset2(int32_t offset)
{
    return tinyc_s32(((uint32_t)offset & 0xFFFFu) * 0x10001u);
}
#endif

#endif /* TINYC_DSP_H */
