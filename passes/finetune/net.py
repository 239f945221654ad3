"""The float graph as a trainable network: batched forward (optionally fake-quantized, as the
compiler will quantize) and backward, parameters per layer (fakequant.weights_for)."""
from __future__ import annotations

import numpy as np

from ...errors import TinycError
from ...ir import OPS, Graph, QParams
from ...ir.interpret import float_data
from ..calibrate import fixed_output_q, qparams_from_range, symmetric_int16
from .fakequant import fq_act, fq_bias, fq_requant, weights_for
from .lsq import lsq_grad
from .ops import RAW_ROUNDING, grad_fns

EMA = 0.9          # moving average of the batch min / max of each activation


def logits_value(g: Graph):
    """The value the losses read: the model's output, or the input of a final softmax."""
    if len(g.outputs) != 1:
        raise TinycError(f"fine-tuning: model '{g.name}' has {len(g.outputs)} outputs — "
                         "distillation needs one output (logits or probabilities)")
    out = g.outputs[0]
    p = out.producer
    if p is not None and p.op in ("softmax", "log_softmax"):
        return p.inputs[0]
    return out


class Net:
    """quant: fake-quantize weights, biases and activations; layers: the compression report's
    per-layer entries (which layers are clustered, int4, sparse); init: {layer: float weights
    before compression}."""

    def __init__(self, g: Graph, layers: dict | None = None, quant: bool = True,
                 dtype=np.float32, init: dict | None = None):
        self.g, self.quant, self.dtype = g, quant, dtype
        for n in g.nodes:
            grad_fns(n)                                # refuse unsupported ops up front
        self.weights, self.bias = {}, {}
        for n in g.nodes:
            if OPS[n.op].layer is not None:
                self.weights[n.name] = weights_for(n, (layers or {}).get(n.name),
                                                   (init or {}).get(n.name))
                if n.input(2) is not None:
                    self.bias[n.name] = float_data(n.inputs[2]).astype(dtype).copy()
        self.consts = {}
        for n in g.nodes:
            lay = OPS[n.op].layer is not None
            for i, v in enumerate(n.inputs):
                if v is not None and v.is_const and not (lay and i in (1, 2)):
                    d = float_data(v).astype(dtype)
                    if quant and v.dtype.is_float and not OPS[n.op].inputs_as_output_q:
                        d = fq_act(d, qparams_from_range(d.min(), d.max()))[0]
                    self.consts[id(v)] = d
        self.ranges: dict[int, tuple[float, float]] = {}
        self.logits = logits_value(g)
        self.lsq: dict[int, np.ndarray] = {}     # learned ranges (ranges="lsq"): [lo, hi]
        self.lsq_values: dict[int, object] = {}
        self.lsq_cache: dict[int, tuple] = {}

    def enable_lsq(self) -> None:
        """Make the range of every activation quantized with a range of its own (not a fixed
        or a passed-through quantization, not around an op whose inputs share the output's
        quantization) a trained parameter, starting from the current ranges."""
        shared = set()
        for n in self.g.nodes:
            if n.attrs.get("activations") == "int16":
                raise TinycError(f"fine-tuning: node '{n.name}' ({n.op}) has int16 "
                                 "activations — learned ranges (ranges='lsq') are int8 only; "
                                 "use ranges='ema' with activations='int16'")
            if OPS[n.op].inputs_as_output_q:
                shared.update(id(v) for v in (*n.inputs, *n.outputs) if v is not None)
        for n in self.g.nodes:
            d, out = OPS[n.op], n.outputs[0]
            if d.fixed_q is not None or d.same_q or id(out) in shared or \
                    id(out) not in self.ranges:
                continue
            self.lsq[id(out)] = np.array(self.ranges[id(out)], np.float32)
            self.lsq_values[id(out)] = out

    def project_lsq(self) -> None:
        """Keep every learned range around 0 (the compiler's range rule includes 0)."""
        for a in self.lsq.values():
            a[0] = min(a[0], 0.0)
            a[1] = max(a[1], a[0] + 1e-6, 0.0)

    # -- parameters ----------------------------------------------------------------------
    def params(self) -> dict[str, np.ndarray]:
        out = {}
        for name, w in self.weights.items():
            for k, a in w.params.items():
                out[f"{name}/{k}"] = a
        for name, b in self.bias.items():
            out[f"{name}/bias"] = b
        for vid, a in self.lsq.items():
            out[f"{self.lsq_values[vid].name}/range"] = a
        return out

    def state(self):
        return ({k: a.copy() for k, a in self.params().items()}, dict(self.ranges))

    def load_state(self, state):
        params, ranges = state
        for k, a in self.params().items():
            a[...] = params[k]
        self.ranges = dict(ranges)

    def store(self, g: Graph) -> None:
        """Write the trained parameters into the graph (the nodes are self.g's)."""
        for n in g.nodes:
            if n.name in self.weights:
                self.weights[n.name].store(g, n)
                if n.name in self.bias:
                    b = n.inputs[2]
                    n.replace_input(2, g.const(b.name, self.bias[n.name].astype(np.float32)))
        for vid, v in self.lsq_values.items():      # learned ranges: quantize uses these
            v.type = v.type.with_(q=qparams_from_range(*self.lsq[vid]))

    # -- activation quantization ----------------------------------------------------------
    def _q(self, v) -> QParams | None:
        if id(v) in self.lsq:
            return qparams_from_range(*self.lsq[id(v)])
        if v.q is not None and v.dtype.is_float:        # a learned range stored in the graph
            return v.q
        r = self.ranges.get(id(v))
        return None if r is None else qparams_from_range(*r)

    def _observe(self, v, a, update: bool) -> None:
        lo, hi = float(a.min()), float(a.max())
        old = self.ranges.get(id(v))
        if old is None or update == "minmax":
            self.ranges[id(v)] = (lo, hi) if old is None else (min(old[0], lo), max(old[1], hi))
        elif update:
            self.ranges[id(v)] = (EMA * old[0] + (1 - EMA) * lo, EMA * old[1] + (1 - EMA) * hi)

    def calib_ranges(self, data: dict[str, np.ndarray], batch: int = 256) -> None:
        """Set every activation range to its min/max over data with the current parameters and
        float activations: what the compiler's (min/max) calibration of the stored graph will
        see, so that training quantizes as the compiled model will."""
        quant, self.quant, self.ranges = self.quant, False, {}
        try:
            n = len(next(iter(data.values())))
            for i in range(0, n, batch):
                self.forward({k: a[i:i + batch] for k, a in data.items()}, update="minmax")
        finally:
            self.quant = quant

    # -- forward / backward ----------------------------------------------------------------
    def forward(self, feeds: dict[str, np.ndarray], update=False, keep: bool = False):
        """Run a batch. update: False (ranges fixed), True (moving averages) or "minmax"
        (the union of the batches' ranges, as calibration). Returns env {id(value): array}
        and the tape for backward."""
        env, tape, qmap = {}, [], {}
        self.lsq_cache = {}
        self.q16 = {}       # int16 activations (quantize.use_int16): id(value) -> its int16 q
        for v in self.g.inputs:
            x = np.asarray(feeds[v.name], self.dtype).reshape((-1,) + tuple(v.shape[1:]))
            if self.quant or update:
                self._observe(v, x, update)
            mask = None
            if self.quant:
                qmap[id(v)] = self._q(v)
                x, mask = fq_act(x, qmap[id(v)])
            env[id(v)] = x
            tape.append((None, v, mask))
        for n in self.g.nodes:
            wide = self.quant and self._wide(n)
            args = self._args(n, env, qmap, wide)
            fwd, _ = grad_fns(n)
            y, cache = fwd(n, *args)
            y = np.asarray(y, self.dtype)
            out = n.outputs[0]
            mask = None
            d = OPS[n.op]
            if self.quant:
                if d.fixed_q is not None:
                    q = fixed_output_q(n.op)
                elif d.same_q:
                    q = qmap[id(n.inputs[0])]
                else:
                    self._observe(out, y, update)
                    q = self._q(out)
                qmap[id(out)] = q
                if wide:       # int16 output: symmetric, one rounding (16x8 requantization)
                    x0 = n.inputs[0]
                    if not (n.attrs.get("activations") == "int16"):      # follows its input
                        q16 = self._in_q(x0, True)
                    else:
                        if id(out) not in self.ranges:
                            self._observe(out, y, update)
                        q16 = symmetric_int16(*self.ranges[id(out)])
                    self.q16[id(out)] = q16
                    y, mask = fq_act(y, q16, -32768, 32767)
                elif n.name in self.weights:
                    n_out = OPS[n.op].out_channels(n.inputs[1].shape)
                    mult = np.float64(np.float32(qmap[id(n.inputs[0])].s)) * \
                        self.weights[n.name].w_scale(n_out).astype(np.float32) / \
                        np.float64(np.float32(q.s))
                    y0 = y
                    y, mask = fq_requant(y, q, mult)
                else:
                    y0 = y
                    y, mask = fq_act(y, q, raw=n.op in RAW_ROUNDING)
                if id(out) in self.lsq:
                    self.lsq_cache[id(out)] = (y0, y, mask, q.s)
            elif update:
                self._observe(out, y, update)
            env[id(out)] = y
            tape.append((n, cache, mask))
        for v in self.g.outputs:        # int16 outputs are requantized to int8
            if id(v) in self.q16:
                env[id(v)] = fq_act(env[id(v)], qmap[id(v)])[0]
        self.qmap = qmap
        return env, tape

    def _wide(self, n) -> bool:
        """Will quantize give n int16 activations (quantize.use_int16)?"""
        if n.attrs.get("activations") == "int16":
            return True
        x = n.input(0)
        return bool(OPS[n.op].int16_follow and x is not None and not x.is_const and
                    id(x) in self.q16)

    def _in_q(self, v, wide: bool) -> QParams:
        """The quantization of activation v as a consumer (int16 or not) reads it."""
        if not wide:
            return self.qmap_now[id(v)]
        if id(v) in self.q16:
            return self.q16[id(v)]
        u = v               # a value without a range of its own (same_q): its input's
        while id(u) not in self.ranges and u.producer is not None and \
                OPS[u.producer.op].same_q:
            u = u.producer.inputs[0]
        return symmetric_int16(*self.ranges[id(u)])

    def _args(self, n, env, qmap, wide: bool = False):
        self.qmap_now = qmap
        args = []
        for i, v in enumerate(n.inputs):
            if v is None:
                args.append(None)
            elif n.name in self.weights and i == 1:
                args.append(self.weights[n.name].forward(self.dtype) if self.quant
                            else self.weights[n.name].params.get("w", None)
                            if self.weights[n.name].kind == "float"
                            else self.weights[n.name].forward(self.dtype))
            elif n.name in self.weights and i == 2:
                b = self.bias[n.name]
                if self.quant:
                    wq = self.weights[n.name]
                    n_out = OPS[n.op].out_channels(n.inputs[1].shape)
                    b = fq_bias(b, self._in_q(n.inputs[0], wide).s, wq.w_scale(n_out))
                args.append(b)
            elif v.is_const:
                args.append(self.consts[id(v)])
            elif self.quant and wide != (id(v) in self.q16):     # a requantize between
                lim = (-32768, 32767) if wide else (-128, 127)
                args.append(fq_act(env[id(v)], self._in_q(v, wide), *lim)[0])
            else:
                args.append(env[id(v)])
        while args and args[-1] is None:
            args.pop()
        return args

    def backward(self, tape, grads: dict[int, np.ndarray]) -> dict[str, np.ndarray]:
        """Gradients of the parameters, given the loss gradients at some values."""
        grads = dict(grads)
        out: dict[str, np.ndarray] = {}
        for n, cache, mask in reversed(tape):
            if n is None:
                continue
            y = n.outputs[0]
            dy = grads.pop(id(y), None)
            if dy is None:
                continue
            if id(y) in self.lsq_cache:
                x0, yq, inside, s = self.lsq_cache[id(y)]
                lo, hi = (float(r) for r in self.lsq[id(y)])
                out[f"{y.name}/range"] = lsq_grad(dy, x0, yq, inside, min(lo, 0.0),
                                                  max(hi, 0.0), s).astype(np.float32)
            if mask is not None:
                dy = dy * mask
            _, bwd = grad_fns(n)
            dxs = bwd(n, cache, dy)
            for i, (v, dx) in enumerate(zip(n.inputs, dxs)):
                if v is None or dx is None:
                    continue
                if n.name in self.weights and i == 1:
                    for k, gk in self.weights[n.name].backward(dx).items():
                        out[f"{n.name}/{k}"] = gk
                elif n.name in self.weights and i == 2:
                    out[f"{n.name}/bias"] = dx
                elif not v.is_const:
                    grads[id(v)] = grads[id(v)] + dx if id(v) in grads else dx
        return out
