/*
 * tinyc_mul_ort_s8.c - int8 elementwise multiply with numpy broadcasting as ONNX Runtime's
 * QLinearMul computes it (tinyc_ort.h; ORT-family QDQ imports compiled with ort_exact):
 * out = clamp(rint(float32((x1 + in1_offset) * (x2 + in2_offset)) * ratio) + out_offset),
 * ratio = float32(float32(sa * sb) / sc) = out_multiplier * 2^out_shift, half to even.
 * tinyc_mul_s8's loops compiled once more under another name (a model's symbol prefix,
 * model_names.h, applies to that name too).
 */
#include "tinyc_ort.h"

#define TINYC_MUL_REQUANT tinyc_ort_requantize
#undef tinyc_mul_s8
#define tinyc_mul_s8 tinyc_mul_ort_s8
#include "tinyc_mul_s8.c"
