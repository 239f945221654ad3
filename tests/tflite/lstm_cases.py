"""UNIDIRECTIONAL_SEQUENCE_LSTM .tflite models built by hand, quantized as the TFLite converter
writes an int8 LSTM for TFLite Micro: int8 input / output / hidden state (variable, the
output's quantization), int8 symmetric per-tensor weights, int32 gate biases at input scale *
weight scale, an int16 variable cell state at a power-of-two scale, no intermediates (TFLM
reads none). A time-major or batch-2 sequence comes in through a RESHAPE (tinyc's model
inputs have batch 1)."""
from __future__ import annotations

import numpy as np

from tflbuild import TflBuilder

TANH, SIGMOID = 4, 6


def lstm(rng, batch=1, steps=3, features=5, hidden=8, time_major=False, cell_power=-11,
         cell_clip=0.0, act=TANH, x_scale=(0.02, 0.1), w_scale=(0.004, 0.03), variant=""):
    """variant (models tinyc refuses): "peephole", "projection", "cifg", "per_channel"."""
    b = TflBuilder()
    s_x, z_x = float(rng.uniform(*x_scale)), int(rng.integers(-40, 40))
    s_h, z_h = float(rng.uniform(1 / 200, 1 / 100)), int(rng.integers(-8, 8))
    seq = (steps, batch, features) if time_major else (batch, steps, features)
    out = (steps, batch, hidden) if time_major else (batch, steps, hidden)
    flat = batch * steps * features
    reshape = seq[0] != 1
    inp = b.tensor("x_in", (1, flat) if reshape else seq, scale=s_x, zp=z_x)
    x = b.tensor("x", seq, scale=s_x, zp=z_x) if reshape else inp
    if reshape:
        b.op("RESHAPE", [inp, b.const("x_shape", np.array(seq, np.int32))], [x])
    ws, bs = [], []
    for g in "ifco":
        sw = float(rng.uniform(*w_scale))
        ws.append(b.const(f"w_{g}", rng.integers(-127, 128, (hidden, features)).astype(np.int8),
                          scale=sw))
        bs.append((g, np.float32(s_x) * np.float32(sw)))
    rs = [b.const(f"r_{g}", rng.integers(-127, 128, (hidden, hidden)).astype(np.int8),
                  scale=float(rng.uniform(*w_scale))) for g in "ifco"]
    if variant == "per_channel":
        rs[1] = b.const("r_f_pc", rng.integers(-127, 128, (hidden, hidden)).astype(np.int8),
                        scale=rng.uniform(*w_scale, hidden), zp=np.zeros(hidden), qdim=0)
    biases = [b.const(f"b_{g}", rng.integers(-4000, 4000, hidden).astype(np.int32), scale=s)
              for g, s in bs]
    h = b.tensor("h_state", (batch, hidden), scale=s_h, zp=z_h, variable=True)
    c = b.tensor("c_state", (batch, hidden), "INT16", scale=2.0 ** cell_power, variable=True)
    y = b.tensor("y", out, scale=s_h, zp=z_h)
    inputs = [x, *ws, *rs, -1, -1, -1, *biases, -1, -1, h, c, -1, -1, -1, -1]
    if variant == "peephole":
        inputs[10] = b.const("peep_f", rng.integers(-127, 128, hidden).astype(np.int16),
                             scale=0.001)
    if variant == "projection":
        inputs[16] = b.const("proj", rng.integers(-127, 128, (hidden, hidden)).astype(np.int8),
                             scale=0.01)
    if variant == "cifg":
        inputs[1], inputs[5], inputs[12] = -1, -1, -1
    b.op("UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, [y], "UnidirectionalSequenceLSTMOptions",
         FusedActivationFunction=act, CellClip=cell_clip, ProjClip=0.0, TimeMajor=time_major)
    return b.build([inp], [y])


CASES = {
    "lstm_small": lambda rng: lstm(rng, 1, 1, 1, 4),
    "lstm_base": lambda rng: lstm(rng),
    "lstm_long": lambda rng: lstm(rng, 1, 10, 20, 32, cell_power=-10),
    "lstm_wide_input": lambda rng: lstm(rng, 1, 6, 20, 4, cell_power=-12),
    "lstm_cell_2e-13": lambda rng: lstm(rng, 1, 7, 3, 16, cell_power=-13),
    "lstm_clip": lambda rng: lstm(rng, 1, 8, 6, 12, cell_clip=0.7, cell_power=-11),
    "lstm_batch2": lambda rng: lstm(rng, 2, 5, 7, 10),
    "lstm_time_major": lambda rng: lstm(rng, 1, 6, 5, 9, time_major=True),
    "lstm_time_major_batch2": lambda rng: lstm(rng, 2, 4, 3, 6, time_major=True,
                                               cell_power=-9),
    "lstm_big_scales": lambda rng: lstm(rng, 1, 9, 11, 20, x_scale=(0.1, 0.3),
                                        w_scale=(0.02, 0.08), cell_power=-8),
}


def lstm16(rng, batch=1, steps=4, features=6, hidden=8, time_major=False, cell_power=-11,
           cell_clip=0.0):
    """The 16x8 LSTM (int16 input, hidden state and output, symmetric; int8 weights; int64
    biases), between QUANTIZE int8 -> int16 and int16 -> int8 (tinyc's model I/O is int8)."""
    b = TflBuilder()
    s_x8, z_x8 = float(rng.uniform(0.02, 0.1)), int(rng.integers(-40, 40))
    s_x = s_x8 * 256 / 65536 * float(rng.uniform(1.0, 1.5))
    s_h = float(rng.uniform(1.0, 1.2)) / 32768
    s_y8, z_y8 = float(rng.uniform(1 / 200, 1 / 100)), int(rng.integers(-8, 8))
    seq = (steps, batch, features) if time_major else (batch, steps, features)
    out = (steps, batch, hidden) if time_major else (batch, steps, hidden)
    reshape = seq[0] != 1
    inp = b.tensor("x_in", (1, batch * steps * features) if reshape else seq, scale=s_x8,
                   zp=z_x8)
    x8 = inp
    if reshape:
        x8 = b.tensor("x8", seq, scale=s_x8, zp=z_x8)
        b.op("RESHAPE", [inp, b.const("x_shape", np.array(seq, np.int32))], [x8])
    x = b.tensor("x16", seq, "INT16", scale=s_x, zp=0)
    b.op("QUANTIZE", [x8], [x])
    ws, rs, biases = [], [], []
    for g in "ifco":
        sw = float(rng.uniform(0.004, 0.03))
        ws.append(b.const(f"w_{g}", rng.integers(-127, 128, (hidden, features)).astype(np.int8),
                          scale=sw))
        biases.append(b.const(f"b_{g}", rng.integers(-1 << 20, 1 << 20, hidden).astype(np.int64),
                              scale=float(np.float32(s_x) * np.float32(sw))))
    for g in "ifco":
        rs.append(b.const(f"r_{g}", rng.integers(-127, 128, (hidden, hidden)).astype(np.int8),
                          scale=float(rng.uniform(0.004, 0.03))))
    h = b.tensor("h_state", (batch, hidden), "INT16", scale=s_h, zp=0, variable=True)
    c = b.tensor("c_state", (batch, hidden), "INT16", scale=2.0 ** cell_power, variable=True)
    y16 = b.tensor("y16", out, "INT16", scale=s_h, zp=0)
    y = b.tensor("y", out, scale=s_y8, zp=z_y8)
    inputs = [x, *ws, *rs, -1, -1, -1, *biases, -1, -1, h, c, -1, -1, -1, -1]
    b.op("UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, [y16], "UnidirectionalSequenceLSTMOptions",
         FusedActivationFunction=TANH, CellClip=cell_clip, ProjClip=0.0, TimeMajor=time_major)
    b.op("QUANTIZE", [y16], [y])
    return b.build([inp], [y])


CASES.update({
    "lstm16_base": lambda rng: lstm16(rng),
    "lstm16_long": lambda rng: lstm16(rng, 1, 10, 20, 32, cell_power=-10),
    "lstm16_clip_batch2": lambda rng: lstm16(rng, 2, 5, 3, 12, cell_clip=0.9, cell_power=-12),
    "lstm16_time_major": lambda rng: lstm16(rng, 2, 3, 4, 6, time_major=True, cell_power=-13),
})
