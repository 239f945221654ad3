"""Fixtures for target tests: a hand-made stand-in model folder, in the layout the backend
writes (model.h, model.c, model_data.c, kernels/*.c), so the firmware path is tested alone."""
import shutil
from pathlib import Path

import numpy as np
import pytest
from needs import skip_unless

HAVE_TOOLS = all(shutil.which(t) for t in ("arm-none-eabi-gcc", "qemu-system-arm"))
needs_tools = skip_unless(HAVE_TOOLS, "arm-none-eabi-gcc/qemu-system-arm missing")

KERNEL = """\
#include "tinyc_standin_kernels.h"
void tinyc_add_s8(const int8_t *a, const int8_t *b, int32_t n_b, int32_t n, int8_t *y)
{
    int32_t i;
    for (i = 0; i < n; i++) y[i] = (int8_t)(a[i] + b[i % n_b]);
}
"""
KERNEL_H = """\
#ifndef TINYC_STANDIN_KERNELS_H
#define TINYC_STANDIN_KERNELS_H
#include <stdint.h>
void tinyc_add_s8(const int8_t *a, const int8_t *b, int32_t n_b, int32_t n, int8_t *y);
#endif
"""


def header(in_sizes, out_sizes):
    lines = ["#ifndef TINYC_MODEL_H", "#define TINYC_MODEL_H", "#include <stdint.h>",
             f"#define TINYC_MODEL_NUM_INPUTS {len(in_sizes)}",
             f"#define TINYC_MODEL_NUM_OUTPUTS {len(out_sizes)}"]
    lines += [f"#define TINYC_MODEL_IN{k}_SIZE {n}" for k, n in enumerate(in_sizes)]
    lines += [f"#define TINYC_MODEL_OUT{k}_SIZE {n}" for k, n in enumerate(out_sizes)]
    params = [f"const int8_t *in{k}" for k in range(len(in_sizes))]
    params += [f"int8_t *out{k}" for k in range(len(out_sizes))]
    lines += [f"void tinyc_model_invoke({', '.join(params)});", "#endif"]
    return "\n".join(lines) + "\n"


def model_c(in_sizes, out_sizes, w_size, arena, body_extra="", invoke_extra=""):
    """out_k = in_(k % I) + w (wrapping int8), via a static arena and the kernel in kernels/."""
    params = [f"const int8_t *in{k}" for k in range(len(in_sizes))]
    params += [f"int8_t *out{k}" for k in range(len(out_sizes))]
    body = []
    for k, n in enumerate(out_sizes):
        i = k % len(in_sizes)
        m = min(n, in_sizes[i])
        body.append(f"    tinyc_add_s8(in{i}, tinyc_w, {w_size}, {m}, arena);")
        body.append(f"    for (j = 0; j < {n}; j++) out{k}[j] = arena[j % {in_sizes[i]}];")
    return "\n".join([
        '#include "model.h"', '#include "tinyc_standin_kernels.h"',
        f"extern const int8_t tinyc_w[{w_size}];", f"static int8_t arena[{arena}];", body_extra,
        f"void tinyc_model_invoke({', '.join(params)})", "{", "    int32_t j;", invoke_extra,
        *body, "}", ""])


def reference(inputs, out_sizes, w):
    """What the stand-in computes, in numpy."""
    outs = []
    for k, n in enumerate(out_sizes):
        x = inputs[k % len(inputs)].ravel().astype(np.int32)
        m = min(n, x.size)
        y = (x[:m] + w[np.arange(m) % w.size]).astype(np.int8)      # wraps like C
        outs.append(y[np.arange(n) % x.size])
    return outs


def write_standin(path: Path, in_sizes=(10,), out_sizes=(10,), w_size=64, arena=None,
                  seed=0, body_extra="", invoke_extra=""):
    """Write a stand-in model folder; returns the weights (int8) it embeds."""
    w = np.random.default_rng(seed).integers(-128, 128, w_size).astype(np.int8)
    (path / "kernels").mkdir(parents=True, exist_ok=True)
    (path / "model.h").write_text(header(in_sizes, out_sizes))
    (path / "model.c").write_text(model_c(in_sizes, out_sizes, w_size, arena or max(in_sizes),
                                          body_extra, invoke_extra))
    (path / "model_data.c").write_text(
        "#include <stdint.h>\nconst int8_t tinyc_w[%d] = {%s};\n"
        % (w_size, ",".join(map(str, w.tolist()))))
    (path / "kernels" / "tinyc_add_s8.c").write_text(KERNEL)
    (path / "kernels" / "tinyc_standin_kernels.h").write_text(KERNEL_H)
    return w


def random_samples(n, in_sizes, seed=1):
    rng = np.random.default_rng(seed)
    return [[rng.integers(-128, 128, s).astype(np.int8) for s in in_sizes] for _ in range(n)]


@pytest.fixture
def standin(tmp_path):
    """Factory: standin(**kw) -> (model_dir, weights)."""
    counter = iter(range(1000))

    def make(**kw):
        d = tmp_path / f"model{next(counter)}"
        return d, write_standin(d, **kw)
    return make
