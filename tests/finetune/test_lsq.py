"""Learned activation ranges (ranges="lsq", passes/finetune/lsq.py).

The backward's range gradients against central finite differences (float64) of the
straight-through surrogate LSQ differentiates: the rounding offsets round(r) - r frozen at the
point, the zero point zp = qmin - lo / s continuous, the clipping exact. Through tinyc.compile:
the compiled model uses the learned ranges and equals the training forward pass."""
from __future__ import annotations

import numpy as np
import pytest

import tinyc
from tinyc.passes.finetune.lsq import LEVELS, lsq_grad
from tinyc.passes.finetune.train import fake_quant_predict

RNG = np.random.default_rng(0)


def _fake_quant(x, lo, hi):
    s = (hi - lo) / LEVELS
    zp = -128 - lo / s
    r = x / s + zp
    t = np.round(r)
    yq = (np.clip(t, -128, 127) - zp) * s
    return yq, (t >= -128) & (t <= 127), s


def _surrogate(x, lo, hi, c, inside):
    """y with the rounding offsets c frozen: x + s * c inside, the range's ends outside."""
    s = (hi - lo) / LEVELS
    clipped = np.where(x < 0.5 * (lo + hi), lo, hi)
    return np.where(inside, x + s * c, clipped)


@pytest.mark.parametrize("lo,hi", [(-1.3, 2.1), (-0.4, 0.9), (0.0, 3.0)])
def test_range_gradient_matches_finite_differences(lo, hi):
    w = hi - lo
    x = RNG.uniform(lo - 0.25 * w, hi + 0.25 * w, size=(3, 5, 4))
    dy = RNG.standard_normal(x.shape)
    yq, inside, s = _fake_quant(x, lo, hi)
    assert inside.mean() > 0.5 and (~inside).any()
    c = (yq - x) / s
    got = lsq_grad(dy, x, yq, inside, lo, hi, s, grad_scale=False)
    eps = 1e-6
    want = []
    for d in ((eps, 0.0), (0.0, eps)):
        up = np.sum(dy * _surrogate(x, lo + d[0], hi + d[1], c, inside))
        dn = np.sum(dy * _surrogate(x, lo - d[0], hi - d[1], c, inside))
        want.append((up - dn) / (2 * eps))
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)
    scaled = lsq_grad(dy, x, yq, inside, lo, hi, s)
    np.testing.assert_allclose(scaled, got / np.sqrt(20 * LEVELS), rtol=1e-12)


def test_network_range_gradients_are_the_surrogates(example_dir):
    """Net's backward with ranges="lsq" on the digits CNN: for one activation, the range
    gradient equals lsq_grad of the loss gradient arriving there (the input gradient is
    straight-through inside the range)."""
    from tinyc.passes.finetune.distill import kl_loss
    from tinyc.passes.finetune.net import Net
    from tinyc.pipeline import FLOAT_PASSES, load_model, run_passes
    g = run_passes(load_model(example_dir / "digits.onnx"), FLOAT_PASSES)
    x = np.load(example_dir / "calib.npz")["input"][:8]
    name = g.inputs[0].name
    net = Net(g)
    net.calib_ranges({name: x})
    net.enable_lsq()
    assert len(net.lsq) >= 3
    env, tape = net.forward({name: x})
    t = RNG.standard_normal(env[id(net.logits)].shape)
    _, grad = kl_loss(env[id(net.logits)], t, 2.0)
    grads = net.backward(tape, {id(net.logits): grad})
    keys = [k for k in grads if k.endswith("/range")]
    assert len(keys) == len(net.lsq)
    assert all(np.all(np.isfinite(grads[k])) and np.any(grads[k] != 0) for k in keys)


@pytest.mark.parametrize("kw", [{"cluster": 2}, {"prune_structured": 0.75}],
                         ids=["cluster2", "structured75"])
def test_learned_ranges_are_compiled_and_predicted_exactly(example_dir, kw):
    """ranges="lsq": the compiled model's activations carry the learned ranges' QParams, the
    fake-quantized forward pass equals its outputs (<= 1 LSB everywhere, as with moving
    averages), and two runs give identical bytes."""
    model, calib = example_dir / "digits.onnx", example_dir / "calib.npz"
    x = np.load(example_dir / "test.npz")["input"]
    opts = {"ranges": "lsq", "range_lr": 0.01}
    m = tinyc.compile(model, calib=calib, finetune=2, progress=None,
                      finetune_options=opts, **kw)
    g = m.finetuned_graph
    learned = {v.name: v.q for v in g.activations() if v.q is not None}
    assert len(learned) >= 3
    plain = tinyc.compile(model, calib=calib, finetune=2, progress=None, **kw)
    compiled = {v.name: v.q for v in m.graph.activations()}
    base = {v.name: v.q for v in plain.graph.activations()}
    for k, q in learned.items():
        assert compiled[k] == q, k
    assert any(base.get(k) != q for k, q in learned.items())
    name = g.inputs[0].name
    cal = np.load(calib)["input"]
    fq = fake_quant_predict(g, [{name: cal[i:i + 1]} for i in range(len(cal))], {name: x})
    q = m.interpret(x, batch=True).reshape(len(x), -1)
    lsb = np.abs(fq.reshape(q.shape) - q) / m.outputs[0].scale
    assert np.mean(fq.reshape(q.shape).argmax(1) == q.argmax(1)) >= 0.995
    assert lsb.max() <= 1 + 1e-4
    assert np.array_equal(m.run_host(x[:40], batch=True), m.interpret(x[:40], batch=True))
    again = tinyc.compile(model, calib=calib, finetune=2, progress=None,
                          finetune_options=opts, **kw)
    for v, u in zip(m.graph.constants(), again.graph.constants()):
        assert v.data.tobytes() == u.data.tobytes() and v.q == u.q
    assert {v.name: v.q for v in again.graph.activations()} == compiled


def test_lsq_with_int16_activations_is_refused(example_dir):
    from tinyc.errors import TinycError
    with pytest.raises(TinycError, match="lsq"):
        tinyc.compile(example_dir / "digits.onnx", calib=example_dir / "calib.npz",
                      finetune=1, activations="int16", progress=None,
                      finetune_options={"ranges": "lsq"})
