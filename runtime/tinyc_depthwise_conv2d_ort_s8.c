/*
 * tinyc_depthwise_conv2d_ort_s8.c - tinyc_depthwise_conv2d_s8 with ONNX Runtime's float32 requantization in
 * integers (tinyc_ort.h): the same loops, compiled once more under another name (a model's
 * symbol prefix, model_names.h, applies to that name too).
 */
#include "tinyc_ort.h"

#define TINYC_LAYER_REQUANT tinyc_ort_requant_out_s8
#undef tinyc_depthwise_conv2d_s8
#define tinyc_depthwise_conv2d_s8 tinyc_depthwise_conv2d_ort_s8
#include "tinyc_depthwise_conv2d_s8.c"
