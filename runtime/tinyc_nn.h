/*
 * tinyc_nn.h - the tinyc int8 kernel API (CMSIS-NN style).
 *
 * Argument order: op params, quant params, a (dims, data) pair per tensor, output last.
 * Layout: activations NHWC; conv filters OHWI; depthwise filters 1HWC (C = in_c * ch_mult);
 * fully-connected weights [out, in].  Quantization follows the TFLite int8 spec: offsets are
 * -input_zero_point and +output_zero_point, multipliers are Q31 with a shift in [-31, 30]
 * (tinyc_requantize), the fused activation is a clamp to [min, max] within [-128, 127].
 *
 * The kernels are C99 without heap, recursion or floating point; shapes are trusted (the
 * compiler that generates the calls has checked them), so there is no status to return.
 */
#ifndef TINYC_NN_H
#define TINYC_NN_H

#include <stdint.h>

/* The one DSP gate: cores with the DSP extension (Cortex-M4/M7/M33/M55), little-endian, with
 * the optimiser on, take the kernels' DSP paths; -O0 and TINYC_PORTABLE take the portable
 * paths (same bits). */
#if defined(__ARM_FEATURE_DSP) && (__ARM_FEATURE_DSP == 1) && !defined(TINYC_PORTABLE) \
    && !defined(__ARM_BIG_ENDIAN) && defined(__OPTIMIZE__)
#define TINYC_DSP 1
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- common types --------------------------------------------------------------------- */

/* A 4-D shape (or, for broadcasts and transposes, the strides of a 4-D index space). */
typedef struct {
    int32_t n;
    int32_t h;
    int32_t w;
    int32_t c;
} tinyc_dims;

typedef struct {
    int32_t h;
    int32_t w;
} tinyc_tile;

/* Fused activation: the output clamp. */
typedef struct {
    int32_t min;
    int32_t max;
} tinyc_activation;

/* Per-output-channel requantization: multiplier[c] (Q31) and shift[c]. */
typedef struct {
    const int32_t *multiplier;
    const int32_t *shift;
} tinyc_per_channel_quant_params;

/* ---- convolutions ----------------------------------------------------------------------- */

typedef struct {
    int32_t input_offset;       /* -input zero point */
    int32_t output_offset;      /* +output zero point */
    tinyc_tile stride;
    tinyc_tile padding;         /* top, left (bottom and right follow from the output dims) */
    tinyc_tile dilation;
    tinyc_activation activation;
} tinyc_conv_params;

typedef struct {
    int32_t input_offset;
    int32_t output_offset;
    int32_t ch_mult;            /* output channel c reads input channel c / ch_mult */
    tinyc_tile stride;
    tinyc_tile padding;
    tinyc_tile dilation;
    tinyc_activation activation;
} tinyc_dw_conv_params;

typedef struct {
    int32_t input_offset;
    int32_t output_offset;
    tinyc_activation activation;
} tinyc_fc_params;

/* filter_dims: {out_c, kh, kw, in_c}; bias may be NULL. */
void tinyc_conv2d_s8(const tinyc_conv_params *params,
                     const tinyc_per_channel_quant_params *quant,
                     const tinyc_dims *input_dims, const int8_t *input,
                     const tinyc_dims *filter_dims, const int8_t *filter,
                     const int32_t *bias,
                     const tinyc_dims *output_dims, int8_t *output);

/* filter_dims: {1, kh, kw, out_c}; bias may be NULL. */
void tinyc_depthwise_conv2d_s8(const tinyc_dw_conv_params *params,
                               const tinyc_per_channel_quant_params *quant,
                               const tinyc_dims *input_dims, const int8_t *input,
                               const tinyc_dims *filter_dims, const int8_t *filter,
                               const int32_t *bias,
                               const tinyc_dims *output_dims, int8_t *output);

/* input_dims: {batches, 1, 1, in}; filter_dims: {out, 1, 1, in};
 * output_dims: {batches, 1, 1, out}. */
void tinyc_fully_connected_s8(const tinyc_fc_params *params,
                              const tinyc_per_channel_quant_params *quant,
                              const tinyc_dims *input_dims, const int8_t *input,
                              const tinyc_dims *filter_dims, const int8_t *filter,
                              const int32_t *bias,
                              const tinyc_dims *output_dims, int8_t *output);

/* ---- pooling (output quantization equals the input's; padding is never counted) -------- */

typedef struct {
    tinyc_tile stride;
    tinyc_tile padding;         /* top, left */
    tinyc_activation activation;
} tinyc_pool_params;

/* filter_dims: {1, kh, kw, 1}. */
void tinyc_avg_pool2d_s8(const tinyc_pool_params *params,
                         const tinyc_dims *input_dims, const int8_t *input,
                         const tinyc_dims *filter_dims,
                         const tinyc_dims *output_dims, int8_t *output);

void tinyc_max_pool2d_s8(const tinyc_pool_params *params,
                         const tinyc_dims *input_dims, const int8_t *input,
                         const tinyc_dims *filter_dims,
                         const tinyc_dims *output_dims, int8_t *output);

/* ---- elementwise with broadcasting ---------------------------------------------------------
 * in1_strides / in2_strides give, for each of the 4 output axes, the input's element stride
 * (0 where the input is broadcast).  The output may be the same buffer as an input that has
 * the output's shape (in-place), never a partial overlap.
 */

typedef struct {
    int32_t in1_offset;
    int32_t in2_offset;
    int32_t left_shift;
    int32_t in1_multiplier;
    int32_t in1_shift;
    int32_t in2_multiplier;
    int32_t in2_shift;
    int32_t out_multiplier;
    int32_t out_shift;
    int32_t out_offset;
    tinyc_activation activation;
} tinyc_add_params;

typedef struct {
    int32_t in1_offset;
    int32_t in2_offset;
    int32_t out_multiplier;
    int32_t out_shift;
    int32_t out_offset;
    tinyc_activation activation;
} tinyc_mul_params;

void tinyc_add_s8(const tinyc_add_params *params,
                  const tinyc_dims *in1_strides, const int8_t *in1,
                  const tinyc_dims *in2_strides, const int8_t *in2,
                  const tinyc_dims *output_dims, int8_t *output);

void tinyc_mul_s8(const tinyc_mul_params *params,
                  const tinyc_dims *in1_strides, const int8_t *in1,
                  const tinyc_dims *in2_strides, const int8_t *in2,
                  const tinyc_dims *output_dims, int8_t *output);

/* ---- softmax over the last axis (TFLite int8 softmax: output scale 1/256, zp -128) ------- */

typedef struct {
    int32_t input_multiplier;
    int32_t input_left_shift;
    int32_t diff_min;
} tinyc_softmax_params;

void tinyc_softmax_s8(const tinyc_softmax_params *params, int32_t num_rows, int32_t row_size,
                      const int8_t *input, int8_t *output);

/* int8 input, int16 output (TFLite Micro Softmax<int8_t, int16_t>): output scale 1/65536,
 * zero point -32768; the same params. */
void tinyc_softmax_s8_s16(const tinyc_softmax_params *params, int32_t num_rows,
                          int32_t row_size, const int8_t *input, int16_t *output);

/* ---- lookup table: output[i] = table[input[i] + 128] (may run in place) ------------------- */

void tinyc_lut_s8(const int8_t *table, int32_t size, const int8_t *input, int8_t *output);

/* ---- data movement ------------------------------------------------------------------------ */

typedef struct {
    tinyc_dims before;          /* elements of padding before each axis */
    int32_t pad_value;
} tinyc_pad_params;

void tinyc_pad_s8(const tinyc_pad_params *params,
                  const tinyc_dims *input_dims, const int8_t *input,
                  const tinyc_dims *output_dims, int8_t *output);

typedef struct {
    tinyc_dims in_strides;      /* the input's stride along each output axis */
} tinyc_transpose_params;

void tinyc_transpose_s8(const tinyc_transpose_params *params, const int8_t *input,
                        const tinyc_dims *output_dims, int8_t *output);

/* One input of a concatenation: num_blocks blocks of block_size bytes, output blocks
 * out_stride bytes apart; output points at this input's place in the first block. */
typedef struct {
    int32_t num_blocks;
    int32_t block_size;
    int32_t out_stride;
} tinyc_concat_params;

void tinyc_concat_s8(const tinyc_concat_params *params, const int8_t *input, int8_t *output);


/* ---- fast kernels (compile-time checked preconditions, see backend_c/kernels.py) ---------
 *
 * Requantization of one output channel in the form the DSP path wants: e = -shift >= 1 and
 * h = 1 << (e - 1) (a zero multiplier is stored with e = 1).  The generator only picks these
 * kernels when every accumulator provably fits |acc| < 2^29, so that
 * requantize(acc, m, -e) == (SMMLAR(2 acc, m, h + (acc < 0 ? -1 : 0))) >> e exactly.
 * The output is saturated to int8; a narrower activation range is clamped afterwards.
 */
typedef struct {
    int32_t m;
    int32_t h;
    int32_t e;
} tinyc_rq;

/* im2col (int16, 6 output pixels per block, in the arena scratch) + int8 x int16 GEMM. */
typedef struct {
    tinyc_dims input;           /* n, h, w, c */
    tinyc_dims output;          /* n, h, w, c (out channels) */
    tinyc_tile kernel;
    tinyc_tile stride;
    tinyc_tile padding;         /* top, left */
    tinyc_tile dilation;
    int32_t row4;               /* k of one filter row: kw * in_c, rounded up to 4 if in_c % 4 */
    int32_t k4;                 /* filter row length: kh * row4 */
    int32_t input_offset;
    int32_t output_offset;
    tinyc_activation activation;
} tinyc_conv_fast_params;

/* filter: [out_c][kh][row4] int8 (OHWI, zero padded); scratch: 12 * k4 + 6 * out_c bytes. */
void tinyc_conv2d_fast_s8(const tinyc_conv_fast_params *params, const tinyc_rq *rq,
                          const int8_t *input, const int8_t *filter, const int32_t *bias,
                          int16_t *scratch, int8_t *output);
/* The same for k4 == 8 (weights and constants of a channel in registers over six pixels). */
void tinyc_conv2d_k8_fast_s8(const tinyc_conv_fast_params *params, const tinyc_rq *rq,
                             const int8_t *input, const int8_t *filter, const int32_t *bias,
                             int16_t *scratch, int8_t *output);

/* 3x3, stride 1, dilation 1 as exact integer Winograd F(2x2, 3x3) (weight format "wino",
 * backend_c/wino.py): filter int16 U = 4 G g G^T as words [out_c / 2][16][cin4 / 2][2];
 * scratch: 96 * cin4 + 288 B (V of a block of three tiles, M of half the positions, Y). */
typedef struct {
    tinyc_dims input;
    tinyc_dims output;
    tinyc_tile padding;         /* top, left */
    int32_t cin4;               /* in_c rounded up to 4 */
    int32_t input_offset;
    const int8_t *zeros;        /* cin4 input zero points (the padding's pixels) */
    tinyc_activation activation;
} tinyc_conv_wino_params;

void tinyc_conv2d_wino_s8(const tinyc_conv_wino_params *params, const tinyc_rq *rq,
                          const int8_t *input, const int32_t *filter, const int32_t *bias,
                          int16_t *scratch, int8_t *output);

/* Depthwise, channel multiplier 1, channels % 4 == 0; filter widened to int16 at compile time,
 * per tap and group of 4 channels in the lane order {c0, c2, c1, c3}. */
typedef struct {
    tinyc_dims input;
    tinyc_dims output;
    tinyc_tile kernel;
    tinyc_tile stride;
    tinyc_tile padding;
    tinyc_tile dilation;
    int32_t input_offset;
    int32_t output_offset;
    tinyc_activation activation;
    int32_t ring_c;             /* 3x3 path: channels per block of the ring (0: all) */
} tinyc_dw_fast_params;

/* bias and filter are scaled by 2 (2 b, 2 w); bias_full = 2 (b + input_offset * sum of the channel's
 * weights), for windows that lie inside the input. */
/* filter3 (not NULL: 3x3, stride 1 or 2, dilation 1; rq, filter, bias and bias_full unused,
 * may be NULL): per channel a record of 10 words {2 b, m, h, e, then per filter row the int16
 * {2 w0, 2 w1, 2 w1, 2 w2}}; scratch: 3 * C * tinyc_dw3_width
 * int16, C = ring_c (a multiple of 4; 0: input.c): the ring holds a block of C channels. */
void tinyc_depthwise_conv2d_fast_s8(const tinyc_dw_fast_params *params, const tinyc_rq *rq,
                                    const int8_t *input, const int16_t *filter,
                                    const int32_t *bias, const int32_t *bias_full,
                                    const int32_t *filter3, int16_t *scratch, int8_t *output);

/* The row width (int16) of one channel's plane in the 3x3 path's scratch: four output pixels
 * per pass, stride * 4 * ceil(out_w / 4) + 2; a single last pixel joins the last four: then
 * stride * 4 * (out_w / 4) + 4 (backend_c/fast.py dw3_width). */
static inline int32_t tinyc_dw3_width(const tinyc_dw_fast_params *p)
{
    const int32_t full = p->output.w >> 2;
    return (p->output.w & 3) == 1 && full > 0 ? p->stride.w * 4 * full + 4
                                               : p->stride.w * 4 * ((p->output.w + 3) >> 2) + 2;
}

/* Fully connected: weights interleaved at compile time in blocks of 4 output channels,
 * [out4 / 4][k4 / 4][4 channels][4 bytes] (zero padded); scratch: 2 * k4 bytes. */
typedef struct {
    int32_t batches;
    int32_t depth;              /* in features */
    int32_t k4;                 /* depth rounded up to 4 */
    int32_t out_c;
    int32_t input_offset;
    int32_t output_offset;
    tinyc_activation activation;
} tinyc_fc_fast_params;

void tinyc_fully_connected_fast_s8(const tinyc_fc_fast_params *params, const tinyc_rq *rq,
                                   const int8_t *input, const int8_t *filter,
                                   const int32_t *bias, int16_t *scratch, int8_t *output);

/* Pair-packed: filter int16 [out4 / 4][k4 / 4][2 pairs][4 lanes], h = 256 w[2i + 1] + w[2i]
 * (backend_c/fast.py fc_pairs); bias includes input_offset * sum w (input_offset unused). */
void tinyc_fully_connected_paired_fast_s8(const tinyc_fc_fast_params *params,
                                          const tinyc_rq *rq, const int8_t *input,
                                          const int16_t *filter, const int32_t *bias,
                                          int16_t *scratch, int8_t *output);

/* Weights stored int16 ("wide" format, backend_c/fast.py fc_wide), [out4 / 2][k4 / 8][2][8];
 * here k4 is the depth rounded up to 8; bias as for the paired kernel; scratch 2 * k4 B. */
void tinyc_fully_connected_wide(const tinyc_fc_fast_params *params, const tinyc_rq *rq,
                                const int8_t *input, const int16_t *filter,
                                const int32_t *bias, int16_t *scratch, int8_t *output);

/* Elementwise add through two per-input tables (table[x + 128] = the input's rescaled value,
 * computed at compile time) and the output requantization. */
typedef struct {
    tinyc_rq out_rq;
    int32_t out_offset;
    tinyc_activation activation;
} tinyc_add_lut_params;

void tinyc_add_lut_s8(const tinyc_add_lut_params *params,
                      const tinyc_dims *in1_strides, const int8_t *in1, const int32_t *table1,
                      const tinyc_dims *in2_strides, const int8_t *in2, const int32_t *table2,
                      const tinyc_dims *output_dims, int8_t *output);

/* Elementwise add as the sum of two per-input tables (table1[x + 128] + table2[y + 128] = the
 * output in 16.16 fixed point, offset and rounding included; built and checked against every
 * input pair at compile time, backend_c/fast.py add_sum_tables), then the activation. */
void tinyc_add_sum_s8(const tinyc_activation *activation,
                      const tinyc_dims *in1_strides, const int8_t *in1, const int32_t *table1,
                      const tinyc_dims *in2_strides, const int8_t *in2, const int32_t *table2,
                      const tinyc_dims *output_dims, int8_t *output);

/* Clamp n int8 values to [min, max] in place (the activation after an int8-saturating kernel). */
void tinyc_clamp_s8_inplace(const tinyc_activation *act, int8_t *data, int32_t n);

/* Convolution with few input channels (backend_c/fewch.py): per output row, `chunk` pixels'
 * input columns are widened to int16 with the input offset (padding 0) into scratch as
 * [column][kh][in_c], so that each window is one contiguous run of k = kw * kh * in_c int16;
 * two pixels x four channels per pass, SMLAD over tap pairs.  filter: int16, per group of four
 * output channels [k4 / 4][4 channels][4 taps] (taps ordered [kw][kh][in_c], zero padded to
 * k4); out_c % 4 == 0; scratch: 2 * (((chunk - 1) * stride.w + kw) * kh * in_c + k4 - k) B. */
typedef struct {
    tinyc_dims input;
    tinyc_dims output;
    tinyc_tile kernel;
    tinyc_tile stride;
    tinyc_tile padding;         /* top, left */
    int32_t k4;
    int32_t chunk;
    int32_t input_offset;
    int32_t output_offset;
    tinyc_activation activation;
} tinyc_conv_fewch_params;

void tinyc_conv2d_fewch_s8(const tinyc_conv_fewch_params *params, const tinyc_rq *rq,
                           const int8_t *input, const int16_t *filter, const int32_t *bias,
                           int16_t *scratch, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TINYC_NN_H */
