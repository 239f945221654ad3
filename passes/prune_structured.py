"""prune_structured: remove whole output channels of the prunable layers (Layer.prunable:
conv2d, fully_connected).

Channels are removed in *groups*: tensors whose channels (last axis) must stay index-for-index
the same — joined by the ops that tie channels (OpDef.channel_tie: relu, clip, pools,
lookup-table ops, per-channel pad, add/mul: residual connections, gates) and per-channel
layers (depthwise) with multiplier 1. A group's sources are the prunable layers that produce
its tensors; it is prunable when
every source is one and no tensor of it is a graph output.

Dropping channel c of a group: every source loses output channel c (weights and bias), every
depthwise conv on the way loses channel c, constants added/multiplied per channel lose entry c,
and the channel's elements are followed forward (a boolean mask per tensor) through concat,
transpose and reshape to the layers that read them (sinks), which lose the matching input
columns; reshape targets shrink with them. A group whose mask reaches anything else (softmax,
a graph output, a reshape that mixes channels into other axes) is left alone.

Which channels: greedy Optimal Brain Surgeon on the sinks' input statistics H (calibration
data): the channel whose columns G cost least, Σ_sinks tr(W_G [H⁻¹]_GG⁻¹ W_Gᵀ), goes first, then
every sink's W and H⁻¹ are updated as if those columns were removed, and so on. The RATIO of
each group's channels is removed (at least one kept). The compress pass then re-fits every
layer to the original model's outputs (compensate.sequential), so biases absorb the mean of
removed channels and the remaining weights take over what they did.
"""
from __future__ import annotations

import numpy as np

from ..errors import TinycError
from ..ir import OPS, Graph, Node, verify
from .compensate import _prepare, damping, sequential, weight_matrix


def is_source(node: Node) -> bool:
    """A layer whose output channels can be removed (Layer.prunable)."""
    layer = OPS[node.op].layer
    return layer is not None and layer.prunable


def _per_channel(node: Node) -> bool:
    layer = OPS[node.op].layer
    return layer is not None and layer.per_channel


class Frozen(Exception):
    """The group's channels cannot be removed (the reason is the message)."""


# -- groups ---------------------------------------------------------------------------------

def _ties(node: Node) -> list:
    """The activations whose channels this node ties to its output's."""
    x = [v for v in node.inputs if v is not None and not v.is_const]
    if OPS[node.op].channel_tie:
        return x
    if _per_channel(node) and node.outputs[0].shape[-1] == x[0].shape[-1]:
        return x[:1]
    return []


def groups(g: Graph) -> list[list]:
    """Union-find of activations over the channel ties; each group a list of Values."""
    parent: dict[int, int] = {}
    values = {id(v): v for v in g.activations()}

    def find(i):
        while parent.get(i, i) != i:
            i = parent[i]
        return i
    for node in g.nodes:
        for x in _ties(node):
            parent[find(id(x))] = find(id(node.outputs[0]))
    out: dict[int, list] = {}
    for i, v in values.items():
        out.setdefault(find(i), []).append(v)
    return list(out.values())


def group_sources(g: Graph, group: list) -> list[Node]:
    """The group's producing layers; Frozen when a tensor of it is a graph input or output or
    comes from anything but a prunable layer or a channel-tying op."""
    srcs = []
    for v in group:
        p = v.producer
        if p is None or v in g.outputs:
            raise Frozen(f"'{v.name}' is a graph input/output")
        if is_source(p):
            srcs.append(p)
        elif not _ties(p):
            raise Frozen(f"'{v.name}' comes from {p.op} '{p.name}'")
    return srcs


# -- masks ------------------------------------------------------------------------------------

def _chan(mask: np.ndarray) -> np.ndarray:
    m = mask.reshape(-1, mask.shape[-1])
    if not (m == m[0]).all():
        raise Frozen("channels mixed into other axes")
    return m[0]


def _transfer(node: Node, ins: list, sinks: dict) -> np.ndarray | None:
    """The output mask of node from its input masks (None entries: unmasked)."""
    shape = node.outputs[0].shape
    if is_source(node):
        sinks[node.name] = ins[0]
        return None
    if node.op == "pad" and any(node.attrs["pads"][k] for k in (len(shape) - 1, -1)):
        raise Frozen(f"pad '{node.name}' pads the channels")
    if _per_channel(node):
        mult = shape[-1] // node.inputs[0].shape[-1]
        return np.broadcast_to(np.repeat(_chan(ins[0]), mult), shape).copy()
    if OPS[node.op].channel_tie:
        chans = [_chan(m) if m is not None else np.zeros(v.shape[-1], bool)
                 for v, m in zip(node.inputs, ins) if not v.is_const]
        if any(c.shape != chans[0].shape or (c != chans[0]).any() for c in chans):
            raise Frozen(f"{node.op} '{node.name}' mixes pruned and kept channels")
        return np.broadcast_to(chans[0], shape).copy()
    if node.op == "concat":
        parts = [m if m is not None else np.zeros(v.shape, bool)
                 for v, m in zip(node.inputs, ins)]
        return np.concatenate(parts, axis=node.attrs["axis"])
    if node.op == "transpose":
        return np.transpose(ins[0], node.attrs["perm"])
    if node.op == "reshape":
        return ins[0].reshape(shape)
    raise Frozen(f"{node.op} '{node.name}' reads pruned channels")


def propagate(g: Graph, sources: list[Node], dropped: np.ndarray) -> tuple[dict, dict]:
    """Masks {id(value): bool array} of the elements that go with the dropped channels, and
    the sinks' input masks {node name: mask}."""
    masks = {id(n.outputs[0]): np.broadcast_to(dropped, n.outputs[0].shape).copy()
             for n in sources}
    sinks: dict = {}
    for node in g.nodes:
        ins = [None if v is None or v.is_const else masks.get(id(v)) for v in node.inputs]
        if all(m is None for m in ins):
            continue
        out = _transfer(node, ins, sinks)
        y = node.outputs[0]
        if out is not None and id(y) in masks and not np.array_equal(masks[id(y)], out):
            raise Frozen(f"'{y.name}' gets two different masks")
        if out is not None:
            masks[id(y)] = out
    if any(id(v) in masks and masks[id(v)].any() for v in g.outputs):
        raise Frozen("the channels reach a graph output")
    return masks, sinks


def shrunk_shape(mask: np.ndarray) -> tuple[int, ...]:
    """The shape left when the mask's elements go: they must be whole slices along one axis."""
    if not mask.any():
        return mask.shape
    for a in range(mask.ndim):
        d = mask.any(axis=tuple(i for i in range(mask.ndim) if i != a))
        shape = [1] * mask.ndim
        shape[a] = -1
        if np.array_equal(np.broadcast_to(d.reshape(shape), mask.shape), mask):
            return mask.shape[:a] + (int((~d).sum()),) + mask.shape[a + 1:]
    raise Frozen("pruned elements are not whole slices of one axis")


def sink_columns(node: Node, mask: np.ndarray) -> np.ndarray:
    """Indices into weight_matrix(node)'s K columns of the masked inputs."""
    if not OPS[node.op].layer.window:
        return np.flatnonzero(mask.reshape(mask.shape[0], -1)[0])
    chans = np.flatnonzero(_chan(mask))
    taps = int(np.prod(node.inputs[1].shape[1:3]))
    c = node.inputs[1].shape[3]
    return (np.arange(taps)[:, None] * c + chans[None, :]).ravel()


# -- choosing the channels -------------------------------------------------------------------

class _Sink:
    """One sink's W [O, K+1] and (H + λI)⁻¹, updated as channels go (OBS)."""

    def __init__(self, w: np.ndarray, H: np.ndarray, lam: float):
        self.w, self.hinv = w.copy(), np.linalg.inv(_prepare(H, lam))

    def cost(self, cols: np.ndarray) -> float:
        if cols.size == 0:
            return 0.0
        wg = self.w[:, cols]
        return float(np.trace(wg @ np.linalg.solve(self.hinv[np.ix_(cols, cols)], wg.T)))

    def remove(self, cols: np.ndarray) -> None:
        if cols.size == 0:
            return
        inv_gg = np.linalg.inv(self.hinv[np.ix_(cols, cols)])
        self.w -= self.w[:, cols] @ inv_gg @ self.hinv[cols, :]
        self.hinv -= self.hinv[:, cols] @ inv_gg @ self.hinv[cols, :]


def choose_channels(g: Graph, sources: list[Node], n_remove: int,
                    sinks: dict[str, _Sink]) -> np.ndarray:
    """The dropped-channel mask of a group: greedy OBS over its sinks (module doc)."""
    c = sources[0].outputs[0].shape[-1]
    cols = []
    for ch in range(c):
        _, sink_masks = propagate(g, sources, np.arange(c) == ch)
        cols.append({s: sink_columns(_node(g, s), m) for s, m in sink_masks.items()})
    dropped = np.zeros(c, bool)
    for _ in range(n_remove):
        costs = [np.inf if dropped[ch] else sum(sinks[s].cost(ix) for s, ix in cols[ch].items())
                 for ch in range(c)]
        best = int(np.argmin(costs))
        dropped[best] = True
        for s, ix in cols[best].items():
            sinks[s].remove(ix)
    return dropped


def _node(g: Graph, name: str) -> Node:
    return next(n for n in g.nodes if n.name == name)


# -- the rewrite --------------------------------------------------------------------------------

def _slice_const(g: Graph, node: Node, idx: int, keep: np.ndarray, axis: int) -> None:
    v = node.inputs[idx]
    if v is None:
        return
    data = np.compress(keep, v.data, axis=axis)
    node.replace_input(idx, g.const(v.name, data, v.q))


def _shrink_layers(g: Graph, sources: list[Node], masks: dict, sinks: dict) -> None:
    for node in g.nodes:
        y = masks.get(id(node.outputs[0]))
        if node in sources or (_per_channel(node) and y is not None):
            keep = ~_chan(y)
            _slice_const(g, node, 1, keep, OPS[node.op].layer.weight_axis)
            _slice_const(g, node, 2, keep, 0)
        if node.name in sinks:
            _slice_sink(g, node, sinks[node.name])
        if OPS[node.op].channel_tie and y is not None:
            for i, v in enumerate(node.inputs):
                if v is not None and v.is_const and v.shape and v.shape[-1] == y.shape[-1] > 1:
                    _slice_const(g, node, i, ~_chan(y), len(v.shape) - 1)


def _slice_sink(g: Graph, node: Node, mask: np.ndarray) -> None:
    layer = OPS[node.op].layer
    if not layer.window:                 # weights [O, K] or [K, O]: the other axis is K
        keep = np.ones(node.inputs[1].shape[1 - layer.weight_axis], bool)
        keep[sink_columns(node, mask)] = False
        _slice_const(g, node, 1, keep, 1 - layer.weight_axis)
    else:                                # windows: input channels are the weights' last axis
        _slice_const(g, node, 1, ~_chan(mask), len(node.inputs[1].shape) - 1)


def apply_group(g: Graph, sources: list[Node], dropped: np.ndarray) -> dict[str, np.ndarray]:
    """Remove the dropped channels of a group; returns {layer: kept output channels} for the
    layers whose outputs shrank (sources and depthwise convs)."""
    masks, sinks = propagate(g, sources, dropped)
    values = {id(v): v for v in g.activations()}
    shapes = {i: shrunk_shape(m) for i, m in masks.items()}
    kept = {n.name: np.flatnonzero(~_chan(masks[id(n.outputs[0])])) for n in g.nodes
            if id(n.outputs[0]) in masks and OPS[n.op].layer is not None}
    _shrink_layers(g, sources, masks, sinks)
    for i, shape in shapes.items():
        v = values[i]
        v.type = v.type.with_(shape=shape)
        if v.producer is not None and v.producer.op == "reshape":
            v.producer.attrs["shape"] = shape
    return kept


def prunable_groups(g: Graph) -> tuple[list[list[Node]], list[dict]]:
    """The sources of every prunable group, and why the other groups with sources are not."""
    plans, frozen = [], []
    for grp in groups(g):
        try:
            srcs = group_sources(g, grp)
            if srcs:
                masks, _ = propagate(g, srcs, np.arange(grp[0].shape[-1]) == 0)
                for m in masks.values():
                    shrunk_shape(m)
                plans.append(srcs)
        except Frozen as e:
            if any(v.producer is not None and is_source(v.producer) for v in grp):
                frozen.append({"tensors": sorted(v.name for v in grp), "reason": str(e)})
    return plans, frozen


def channels_to_remove(c: int, ratio: float) -> int:
    """floor(ratio * c) channels — but where c is a multiple of 4 and at least 16, the kept count
    is rounded to the nearest multiple of 4 (ties: keep more), since the fast depthwise and
    im2col kernels need channel counts that are multiples of 4: 45 channels would run slower
    than 64."""
    n = min(int(np.floor(ratio * c)), c - 1)
    if c >= 16 and c % 4 == 0:
        kept = max(4, 4 * int(np.floor((c - n) / 4 + 0.5)))
        n = c - kept
    return n


def prune_structured(g: Graph, samples, ratio: float) -> tuple[dict, dict]:
    """Remove `ratio` of the output channels of every prunable group (module doc). Returns
    ({layer: kept output channels}, report)."""
    if not isinstance(ratio, (int, float)) or not 0.0 < float(ratio) < 1.0:
        raise TinycError(f"prune_structured: ratio must be in (0, 1), got {ratio!r}")
    plans, frozen = prunable_groups(g)
    report = {"groups": [], "frozen": frozen}
    sink_names = {n.name for n in g.nodes if is_source(n)}
    sinks: dict[str, _Sink] = {}

    def collect(node, stats):
        w2, b = weight_matrix(node)
        sinks[node.name] = _Sink(np.concatenate([w2, b[:, None]], 1), stats.H,
                                 damping(stats.H, stats.rows))
    sequential(g, samples, sink_names, collect)
    chosen = []
    for srcs in plans:
        c = srcs[0].outputs[0].shape[-1]
        n_remove = channels_to_remove(c, ratio)
        if n_remove:
            chosen.append((srcs, choose_channels(g, srcs, n_remove, sinks)))
    kept: dict[str, np.ndarray] = {}
    for srcs, dropped in chosen:
        kept.update(apply_group(g, srcs, dropped))
        report["groups"].append({"layers": [n.name for n in srcs], "channels": len(dropped),
                                 "removed": [int(i) for i in np.flatnonzero(dropped)]})
    verify(g)
    return kept, report
