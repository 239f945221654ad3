/*
 * tinyc_depthwise_conv2d_fast_dsp.h - the DSP tap of tinyc_depthwise_conv2d_fast_s8.c
 * (TINYC_DSP); tinyc_depthwise_conv2d_fast_c.h is the portable twin with the same interface
 * and results.  TINYC_DW_TAP(a, x, w, ofs, off): a += (x[0..3] + offset) * the four int16
 * weights at byte ofs of w (off = tinyc_widen_offset(offset)); TINYC_DW_TAP0 leaves the offset out;
 * tinyc_dw_step(p, d) = p + d.
 */
#ifndef TINYC_DEPTHWISE_CONV2D_FAST_DSP_H
#define TINYC_DEPTHWISE_CONV2D_FAST_DSP_H

#include "tinyc_fast.h"

#if defined(__GNUC__) && !defined(__clang__)
/* GCC's scheduling before register allocation hoists the 9 taps' loads and spills them (this
 * header is included by the depthwise kernel only). */
#pragma GCC optimize("no-schedule-insns")
#endif

/* x lanes {x0, x2} (xe) and {x1, x3} (xo) times the filter's {w0, w2}, {w1, w3} at byte
 * ofs (a constant) of w: one LDRD (constant data: no memory operand needed), four MACs. */
#define TINYC_DW_MAC(a, xe, xo, w, ofs)                                                    \
    do {                                                                                   \
        int32_t we_;                                                                       \
        int32_t wo_;                                                                       \
        __asm__("ldrd %0, %1, [%2, #%c3]" : "=r"(we_), "=r"(wo_) : "r"(w), "i"(ofs));      \
        (a).a0 = __smlabb(xe, we_, (a).a0);                                                \
        (a).a2 = __smlatt(xe, we_, (a).a2);                                                \
        (a).a1 = __smlabb(xo, wo_, (a).a1);                                                \
        (a).a3 = __smlatt(xo, wo_, (a).a3);                                                \
    } while (0)

/* x at the tap's inputs, filter at byte ofs of w. */
#define TINYC_DW_TAP(a, x, w, ofs, off)                                                    \
    do {                                                                                   \
        const uint32_t v_ = tinyc_ld4(x);                                                  \
        TINYC_DW_MAC(a, __sxtab16(off, tinyc_s32(v_)), tinyc_sxtab16_ror8(off, v_), w, ofs); \
    } while (0)

#define TINYC_DW_TAP0(a, x, w, ofs, off)                                                   \
    do {                                                                                   \
        const uint32_t v_ = tinyc_ld4(x);                                                  \
        TINYC_DW_MAC(a, __sxtb16(tinyc_s32(v_)), tinyc_sxtb16_ror8(v_), w, ofs);           \
    } while (0)

/* p + d, opaque to the optimiser: the taps walk one pointer instead of holding 9 offsets. */
static inline const int8_t *tinyc_dw_step(const int8_t *p, int32_t d)
{
    __asm__("add %0, %0, %1" : "+r"(p) : "r"(d));
    return p;
}

#endif /* TINYC_DEPTHWISE_CONV2D_FAST_DSP_H */
