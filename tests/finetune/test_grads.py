"""Acceptance 1: every op's backward (passes/finetune/ops.py) against central finite
differences in float64, on batched inputs (batch 2), broadcasting and padding included; and the
whole network's parameter gradients (float and fake-quantized parametrisations) through the
distillation losses."""
from __future__ import annotations

import numpy as np
import pytest

from tinyc.ir import OPS, DType, Graph, TensorType
from tinyc.passes.finetune.distill import ce_loss, feature_loss, kl_loss
from tinyc.passes.finetune.ops import grad_fns, trainable_ops

RNG = np.random.default_rng(0)
F32 = DType.FLOAT32


def _node(op, shapes, attrs, const=()):
    """A graph with one `op` node over inputs of `shapes` (indices in const: constants)."""
    g = Graph("t")
    ins = []
    for i, s in enumerate(shapes):
        if i in const:
            ins.append(g.const(f"c{i}", RNG.standard_normal(s).astype(np.float32)))
        else:
            ins.append(g.add_input(f"x{i}", TensorType(F32, tuple(s))))
    y = g.emit(op, ins, attrs)
    return y.producer


def _away_from_ties(a):
    """Values spaced apart (max/min/relu kinks are not within the finite difference step)."""
    flat = RNG.permutation(a.size).astype(np.float64)
    return ((flat - a.size / 2) / a.size * 4 + 0.013).reshape(a.shape)


CASES = [
    ("conv2d", [(2, 5, 6, 3), (4, 3, 3, 3), (4,)],
     {"stride": (2, 1), "pads": (1, 0, 1, 2), "dilation": (1, 2), "act": (0.0, 6.0)}),
    ("conv2d", [(2, 4, 4, 2), (3, 1, 1, 2)],
     {"stride": (1, 1), "pads": (0, 0, 0, 0), "dilation": (1, 1)}),
    ("depthwise_conv2d", [(2, 5, 5, 2), (1, 3, 3, 4), (4,)],
     {"stride": (2, 2), "pads": (1, 1, 1, 1), "dilation": (1, 1), "act": (0.0, np.inf)}),
    ("depthwise_conv2d", [(2, 6, 6, 3), (1, 3, 2, 3), (3,)],
     {"stride": (1, 1), "pads": (0, 1, 0, 1), "dilation": (2, 1)}),
    ("fully_connected", [(3, 7), (5, 7), (5,)], {"act": (-1.0, 1.0)}),
    ("avg_pool2d", [(2, 5, 5, 3)], {"kernel": (3, 3), "stride": (2, 2), "pads": (1, 1, 1, 1)}),
    ("avg_pool2d", [(2, 4, 4, 3)], {"kernel": (4, 4), "stride": (1, 1), "pads": (0, 0, 0, 0)}),
    ("max_pool2d", [(2, 5, 5, 3)], {"kernel": (2, 2), "stride": (2, 2), "pads": (0, 1, 0, 1)}),
    ("add", [(2, 3, 4), (4,)], {"act": (0.0, np.inf)}),
    ("add", [(2, 3, 4), (2, 3, 4)], {}),
    ("sub", [(2, 3, 4), (1, 3, 1)], {}),
    ("mul", [(2, 3, 4), (1, 1, 4)], {}),
    ("squared_difference", [(2, 3, 4), (2, 3, 4)], {}),
    ("minimum", [(2, 3, 4), (2, 3, 4)], {}),
    ("maximum", [(2, 3, 4), (4,)], {}),
    ("prelu", [(2, 3, 4), (4,)], {}),
    ("softmax", [(3, 10)], {"beta": 1.5}),
    ("log_softmax", [(3, 10)], {}),
    ("reshape", [(2, 3, 4)], {"shape": (2, 12)}),
    ("transpose", [(2, 3, 4, 5)], {"perm": (0, 2, 3, 1)}),
    ("concat", [(2, 3, 2), (2, 3, 4)], {"axis": 2}),
    ("pad", [(2, 3, 4, 2)], {"pads": (0, 1, 2, 0, 0, 2, 1, 0), "value": 0.5}),
    ("slice", [(2, 6, 5, 3)], {"begin": (0, 1, 0, 0), "end": (2, 6, 5, 2), "strides": (1, 2, 1, 1)}),
    ("gather", [(2, 5, 3)], {"axis": 1, "indices": (4, 0, 4, 2), "indices_shape": (4,)}),
    ("resize_nearest", [(2, 3, 4, 2)], {"h_index": (0, 0, 1, 1, 2, 2), "w_index": (0, 1, 1, 3)}),
    ("resize_bilinear", [(2, 3, 4, 2)], {"size": (5, 7), "align_corners": False,
                                         "half_pixel_centers": True}),
    ("resize_bilinear", [(2, 3, 4, 2)], {"size": (6, 8), "align_corners": True,
                                         "half_pixel_centers": False}),
    ("resize", [(2, 3, 4, 2)], {"h_index": (0, 1, 1, 2, -1, -1), "h_weight": (.25, .75, .5, .5,
                                                                         1, 0), "kh": 2,
                                "w_index": (0, 1, 2, 3, 3), "w_weight": (1, 1, 1, 1, 1), "kw": 1,
                                "extrapolation_value": 0.5}),
    ("mean", [(2, 4, 4, 3)], {"axes": (1, 2), "keep_dims": True}),
    ("sum", [(2, 4, 3)], {"axes": (2,), "keep_dims": False}),
    ("reduce_max", [(2, 4, 4, 3)], {"axes": (1, 2), "keep_dims": True}),
    ("transpose_conv2d", [(2, 3, 4, 3), (4, 3, 2, 3), (4,)],
     {"stride": (2, 2), "padding": (1, 0), "out_size": (6, 8), "act": (0.0, 6.0)}),
    ("transpose_conv2d", [(2, 3, 3, 2), (3, 2, 3, 2)],
     {"stride": (1, 2), "padding": (0, 1), "out_size": (5, 7)}),
    ("batch_matmul", [(2, 3, 4), (4, 5)], {}),
    ("batch_matmul", [(2, 1, 4, 3), (3, 5, 4)], {"adj_x": True, "adj_y": True}),
    ("l2_norm", [(2, 3, 6)], {}),
    ("l1_norm", [(2, 3, 6)], {}),
    ("layer_norm", [(2, 3, 6)], {"gamma": tuple(RNG.standard_normal(6)),
                                 "beta": tuple(RNG.standard_normal(6)), "epsilon": 1e-3}),
] + [(u, [(2, 3, 5)], a) for u, a in [
    ("relu", {}), ("clip", {"min": -0.5, "max": 0.7}), ("sigmoid", {}), ("tanh", {}),
    ("hard_sigmoid", {"alpha": 0.2, "beta": 0.5}), ("hard_swish", {}),
    ("leaky_relu", {"alpha": 0.1}), ("elu", {"alpha": 0.8}), ("softplus", {}),
    ("selu", {}), ("swish", {"alpha": 1.3}), ("gelu", {}), ("gelu", {"tanh": True}),
    ("rsqrt", {"epsilon": 1e-3}),
    ("elementwise_fn", {"program": (("exp", "x"), ("add", 0, 1.0), ("log", 1))})]]


def _fd_check(node, arrays, n_probe=40, eps=1e-6):
    fwd, bwd = grad_fns(node)
    y, cache = fwd(node, *arrays)
    dy = RNG.standard_normal(np.shape(y))
    grads = bwd(node, cache, dy)
    assert len(grads) >= len(arrays)
    for k, a in enumerate(arrays):
        g = grads[k]
        assert g is not None and g.shape == a.shape, (node.op, k)
        flat = a.reshape(-1)
        for i in RNG.choice(a.size, min(n_probe, a.size), replace=False):
            old = flat[i]
            flat[i] = old + eps
            lp = float(np.sum(fwd(node, *arrays)[0] * dy))
            flat[i] = old - eps
            lm = float(np.sum(fwd(node, *arrays)[0] * dy))
            flat[i] = old
            num = (lp - lm) / (2 * eps)
            assert abs(num - g.reshape(-1)[i]) <= 1e-6 + 1e-5 * abs(num), \
                (node.op, node.attrs, k, i, num, g.reshape(-1)[i])


@pytest.mark.parametrize("op,shapes,attrs", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_backward_matches_finite_differences(op, shapes, attrs):
    node = _node(op, shapes, attrs)
    arrays = [_away_from_ties(np.empty(s)) if i == 0 and op in (
        "max_pool2d", "reduce_max", "relu", "clip", "hard_sigmoid", "hard_swish",
        "leaky_relu", "elu", "prelu", "selu") else RNG.standard_normal(s)
        for i, s in enumerate(shapes)]
    if op == "rsqrt":
        arrays[0] = np.abs(arrays[0]) + 0.3
    if op in ("minimum", "maximum"):
        arrays[1] = arrays[0][..., :arrays[1].shape[-1]] * 0 + _away_from_ties(
            np.empty(shapes[1])) + 0.0021
    # the float64 forward agrees with the op's own float semantics (the golden model)
    fwd, _ = grad_fns(node)
    ref = OPS[op].run_float(node, *[a.astype(np.float32) for a in arrays])
    np.testing.assert_allclose(fwd(node, *arrays)[0], ref, rtol=1e-4, atol=1e-5)
    _fd_check(node, arrays)


def test_every_trainable_op_is_checked():
    """The gradient table covers every op with float semantics but those the registry marks
    untrainable (OpDef.trainable: folded / QDQ-only / state ops), and every op in it has a
    finite-difference case above."""
    checked = {c[0] for c in CASES}
    assert set(trainable_ops()) <= checked
    float_ops = {n for n, d in OPS.items() if d.run_float is not None}
    assert float_ops - checked <= {n for n, d in OPS.items() if not d.trainable}
    assert {n for n, d in OPS.items() if not d.trainable} & set(trainable_ops()) == set()


@pytest.mark.parametrize("op", sorted(n for n, d in OPS.items() if not d.trainable))
def test_untrainable_op_is_refused_by_name(op):
    """grad_fns refuses a node of an op the registry marks untrainable: TinycError naming the
    node and the op."""
    from tinyc.errors import TinycError
    from tinyc.ir import Node
    node = Node(op, "n7", [], [])
    with pytest.raises(TinycError, match=f"n7.*{op}.*finetune"):
        grad_fns(node)


@pytest.mark.parametrize("loss", ["kl", "ce", "feature"])
def test_loss_gradients(loss):
    s = RNG.standard_normal((4, 10))
    t = RNG.standard_normal((4, 10)) * 3
    labels = np.array([1, 3, 9, 0])
    fn = {"kl": lambda x: kl_loss(x, t, 3.0), "ce": lambda x: ce_loss(x, labels),
          "feature": lambda x: feature_loss(x, t)}[loss]
    _, g = fn(s)
    eps = 1e-6
    for i in range(s.size):
        p, m = s.copy().reshape(-1), s.copy().reshape(-1)
        p[i] += eps
        m[i] -= eps
        num = (fn(p.reshape(s.shape))[0] - fn(m.reshape(s.shape))[0]) / (2 * eps)
        assert abs(num - g.reshape(-1)[i]) <= 1e-6 + 1e-5 * abs(num)


def test_network_gradients_match_finite_differences(example_dir):
    """The whole digits graph (float64, no fake quant): Net.backward's parameter gradients of
    KL + cross-entropy + feature matching against central differences."""
    from tinyc.passes.finetune.net import Net
    from tinyc.passes.manager import run_passes
    from tinyc.pipeline import FLOAT_PASSES, load_model
    g = run_passes(load_model(example_dir / "digits.onnx"), FLOAT_PASSES)
    net = Net(g, quant=False, dtype=np.float64)
    for k, a in list(net.params().items()):
        name, part = k.rsplit("/", 1)
        if part == "bias":
            net.bias[name] = a.astype(np.float64)
        else:
            net.weights[name].params[part] = a.astype(np.float64)
    x = {g.inputs[0].name: np.load(example_dir / "calib.npz")["input"][:3].astype(np.float64)}
    teacher = RNG.standard_normal((3, 10))
    labels = np.array([3, 1, 7])
    feat = [n.outputs[0] for n in g.nodes if n.op == "depthwise_conv2d"][0]
    t_feat = RNG.standard_normal((3,) + feat.shape[1:])

    def loss(grad=False):
        env, tape = net.forward(x)
        s = env[id(net.logits)]
        l1, g1 = kl_loss(s, teacher, 2.0)
        l2, g2 = ce_loss(s, labels)
        l3, g3 = feature_loss(env[id(feat)], t_feat)
        if not grad:
            return l1 + l2 + l3
        return net.backward(tape, {id(net.logits): g1 + g2, id(feat): g3})

    grads = loss(True)
    params = net.params()
    assert set(grads) == set(params)
    eps = 1e-6
    for k, a in params.items():
        flat = a.reshape(-1)
        for i in RNG.choice(a.size, min(6, a.size), replace=False):
            old = flat[i]
            flat[i] = old + eps
            lp = loss()
            flat[i] = old - eps
            lm = loss()
            flat[i] = old
            num = (lp - lm) / (2 * eps)
            assert abs(num - grads[k].reshape(-1)[i]) <= 1e-6 + 1e-4 * abs(num), (k, i)


@pytest.mark.parametrize("layout", ["nchw", "nhwc"])
def test_shift_images_moves_each_sample_by_one_pixel_at_most(layout):
    """The unlabelled-data augmentation: every sample equals its original moved by (dy, dx) in
    -1..1 with zeros shifted in (checked against np.roll with the wrapped edge zeroed)."""
    from tinyc.passes.finetune.train import shift_images
    a = RNG.standard_normal((40, 1, 6, 7) if layout == "nchw" else (40, 6, 7, 3))
    out = shift_images({"x": a}, np.random.default_rng(3))["x"]
    ax = (2, 3) if layout == "nchw" else (1, 2)
    seen = set()
    for i in range(len(a)):
        hits = []
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                r = np.roll(a[i], (-dy, -dx), axis=(ax[0] - 1, ax[1] - 1))
                idx = [slice(None)] * 3
                if dy:
                    idx[ax[0] - 1] = -1 if dy > 0 else 0
                    r[tuple(idx)] = 0
                    idx[ax[0] - 1] = slice(None)
                if dx:
                    idx[ax[1] - 1] = -1 if dx > 0 else 0
                    r[tuple(idx)] = 0
                if np.array_equal(r, out[i]):
                    hits.append((dy, dx))
        assert len(hits) == 1, (i, hits)
        seen.add(hits[0])
    assert len(seen) >= 6
