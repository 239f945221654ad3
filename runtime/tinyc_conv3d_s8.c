/*
 * tinyc_conv3d_s8.c - int8 3-D convolution (tinyc_nd.h).
 */
#include "tinyc_nd.h"
#include "tinyc_dot.h"
#include "tinyc_requant.h"

void tinyc_conv3d_s8(const tinyc_conv3d_params *params,
                     const tinyc_per_channel_quant_params *quant,
                     const tinyc_dims5 *input_dims, const int8_t *input,
                     const tinyc_dims5 *filter_dims, const int8_t *filter,
                     const int32_t *bias,
                     const tinyc_dims5 *output_dims, int8_t *output)
{
    const int32_t depth = input_dims->c;
    const int32_t kd = filter_dims->d;
    const int32_t kh = filter_dims->h;
    const int32_t kw = filter_dims->w;
    int32_t n;
    int32_t od;
    int32_t oy;
    int32_t ox;
    int32_t oc;
    int32_t fd;
    int32_t fy;
    int32_t fx;
    for (n = 0; n < output_dims->n; ++n) {
        const int8_t *image = input + n * input_dims->d * input_dims->h * input_dims->w * depth;
        for (od = 0; od < output_dims->d; ++od) {
            for (oy = 0; oy < output_dims->h; ++oy) {
                for (ox = 0; ox < output_dims->w; ++ox) {
                    for (oc = 0; oc < filter_dims->n; ++oc) {
                        int32_t acc = 0;
                        for (fd = 0; fd < kd; ++fd) {
                            const int32_t id = od * params->stride.d - params->padding.d
                                               + fd * params->dilation.d;
                            if (id < 0 || id >= input_dims->d) {
                                continue;
                            }
                            for (fy = 0; fy < kh; ++fy) {
                                const int32_t iy = oy * params->stride.h - params->padding.h
                                                   + fy * params->dilation.h;
                                if (iy < 0 || iy >= input_dims->h) {
                                    continue;
                                }
                                for (fx = 0; fx < kw; ++fx) {
                                    const int32_t ix = ox * params->stride.w - params->padding.w
                                                       + fx * params->dilation.w;
                                    if (ix < 0 || ix >= input_dims->w) {
                                        continue;
                                    }
                                    acc = tinyc_add_wrap(acc, tinyc_dot_s8(
                                        image + ((id * input_dims->h + iy) * input_dims->w + ix)
                                                * depth,
                                        filter + (((oc * kd + fd) * kh + fy) * kw + fx) * depth,
                                        depth, params->input_offset));
                                }
                            }
                        }
                        *output++ = tinyc_requant_out_s8(acc, bias != 0 ? bias[oc] : 0, quant,
                                                         oc, params->output_offset,
                                                         &params->activation);
                    }
                }
            }
        }
    }
}
