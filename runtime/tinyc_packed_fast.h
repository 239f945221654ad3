/*
 * tinyc_packed_fast.h - the decoder of the fast path of the packed weight formats s4, cb and
 * mask (tinyc_packed.h): the weights are decoded into arena scratch in exactly the layout of
 * the dense fast kernel, then that kernel's loops run on them, so that every weight is decoded
 * once per inference (tinyc_conv2d_packed_fast.c: one block of output channels at a time, each
 * run over every pixel before the next; tinyc_depthwise_conv2d_packed_fast.c: the whole
 * filter).  Same bits as the dense fast kernels on the same values.
 */
#ifndef TINYC_PACKED_FAST_H
#define TINYC_PACKED_FAST_H

#include <stdint.h>

#include "tinyc_fast.h"
#include "tinyc_packed.h"

/* n weights from the stream position *cur (elements in the dense order of the layer) to out,
 * as int8; *cur advances past them. */
static inline void tinyc_pk_read(const tinyc_pk_weights *w, tinyc_pk_cursor *cur, int8_t *out,
                          int32_t n)
{
    uint32_t pos = cur->pos;
    int32_t i = 0;
    if (w->format == TINYC_PK_S4 || (w->format == TINYC_PK_CB && w->index_bits == 4)) {
        /* four bits per element: two per byte, the low nibble first */
        const int8_t *book = w->values;
        const uint8_t *p = w->bits + (pos >> 1);
        uint32_t b;
        if ((pos & 1u) && n > 0) {
            b = (uint32_t)*p++ >> 4;
            out[i++] = book != 0 ? book[b] : (int8_t)tinyc_s4_nibble(b);
        }
        if (book != 0) {
            for (; i + 1 < n; i += 2) {
                b = *p++;
                out[i] = book[b & 15u];
                out[i + 1] = book[b >> 4];
            }
        } else {
            for (; i + 1 < n; i += 2) {
                b = *p++;
                out[i] = (int8_t)tinyc_s4_nibble(b);
                out[i + 1] = (int8_t)tinyc_s4_nibble(b >> 4);
            }
        }
        if (i < n) {
            b = (uint32_t)*p & 15u;
            out[i] = book != 0 ? book[b] : (int8_t)tinyc_s4_nibble(b);
        }
    } else if (w->format == TINYC_PK_CB) {
        const uint32_t step = (uint32_t)w->index_bits;
        uint32_t bit = pos * step;
        for (; i < n; ++i, bit += step) {
            out[i] = w->values[tinyc_cb_index(w->bits, w->index_bits, bit)];
        }
    } else {                                    /* mask: a byte of bits at a time */
        const int8_t *v = cur->value;
        uint32_t q = pos;
        for (; i < n; ++i, ++q) {
            out[i] = tinyc_mask_bit(w->bits, q) ? *v++ : (int8_t)0;
        }
        cur->value = v;
    }
    cur->pos = pos + (uint32_t)n;
}

/* 4 bytes from src to dst, byte by byte (any alignment, no library call). */
static inline void tinyc_pk_copy4(int8_t *dst, const int8_t *src)
{
    dst[0] = src[0];
    dst[1] = src[1];
    dst[2] = src[2];
    dst[3] = src[3];
}

static inline void tinyc_pk_zero(int8_t *dst, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        dst[i] = 0;
    }
}

static inline int32_t tinyc_pk_align4(int32_t n)
{
    return (n + 3) & ~3;
}

#endif /* TINYC_PACKED_FAST_H */
