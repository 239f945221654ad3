"""The fine-tuning loop: Adam, mini-batches, a held-out tenth for early stopping, fixed seed.

Cost model: one step costs about 3x the forward MACs (forward, input and weight gradients),
so an epoch costs ~3 x MACs per sample x samples; with float32 BLAS matmuls on 2 cores
(~2-5 GMAC/s in practice, im2col included) 0.3 M MACs x 1,400 samples x 10 epochs is ~13 G
MACs, some seconds."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from ...errors import TinycError
from ...ir import OPS, Graph
from .distill import ce_loss, feature_loss, kl_loss
from .net import Net

log = logging.getLogger("tinyc.finetune")


@dataclass
class FinetuneOptions:
    epochs: int = 10
    batch: int = 16
    lr: float = 0.05                # float weights and biases (Adam; warm-up, cosine decay)
    book_lr: float = 0.005          # palette entries, in units of the palette's least gap
    scale_lr: float = 3e-3          # per-channel log-scales of palette layers
    latent_lr: float = 0.02        # palette layers' latent weights, likewise (a weight
    #                                 changes entry after ~1 / (2 latent_lr) steps one way)
    temperature: float | None = None   # None: 2 with labels (measured: +1 to +3 points on
    #                                    the small students), 4 without
    kd_weight: float = 1.0
    ce_weight: float = 1.0
    features: tuple[str, ...] = ()  # value names to match (teacher: the float model)
    patience: int = 6
    cosine: bool = True             # learning rates decay to 0 over the epochs (cosine)
    seed: int = 0
    val_fraction: float = 0.1
    warmup: float = 1.0             # learning rates ramp up linearly over this many epochs
    augment: int | None = None      # extra shifted copies of each training image per epoch
    #                                 (None: 3 without labels, 0 with labels or features)
    #                                 (NHWC inputs: every sample moved by -1..1 pixels, zeros
    #                                 shifted in), labelled by the teacher's logits on them
    ranges: str = "ema"             # activation ranges in training: "ema" — moving averages
    #                                 of the batches' min/max; "calib" — min/max over the
    #                                 calibration data with the current weights, as the
    #                                 compiler will calibrate, refreshed every range_steps
    #                                 steps. Held-out evaluations use the latter either way
    #                                 (when calibration data is given): they pick the epoch
    #                                 by the compiled model's behaviour
    #                                 "lsq" — learned: each activation's range (lo, hi) is a
    #                                 trained parameter (LSQ's straight-through gradients and
    #                                 gradient scale, passes/finetune/lsq.py), starting at the
    #                                 calibration ranges; the compiled model uses the learned
    #                                 ranges (stored on the graph's activations)
    range_steps: int = 50
    range_lr: float = 1e-3          # ranges="lsq": Adam step, a fraction of the starting width
    mixup: float = 0.0              # the fraction of the shifted copies mixed with another
    #                                 sample of the batch (x = l x + (1 - l) x', l uniform in
    #                                 [0, 1]), labelled by the teacher; without labels only (a
    #                                 mixed image has no label); 0.5 measured: no better
    average: float = 0.0            # also keep a moving average of the parameters (this
    #                                 decay per step, e.g. 0.99; 0: off); at each epoch's end
    #                                 the held-out set picks between the trained and the
    #                                 averaged ones (measured on digits: no better, off)


class Adam:
    def __init__(self, params: dict[str, np.ndarray], lrs: dict[str, float],
                 b1=0.9, b2=0.999, eps=1e-8):
        self.p, self.lrs = params, lrs
        self.m = {k: np.zeros_like(a, np.float64) for k, a in params.items()}
        self.v = {k: np.zeros_like(a, np.float64) for k, a in params.items()}
        self.t, self.b1, self.b2, self.eps = 0, b1, b2, eps

    def step(self, grads: dict[str, np.ndarray], factor: float = 1.0) -> None:
        self.t += 1
        c1, c2 = 1 - self.b1 ** self.t, 1 - self.b2 ** self.t
        for k, gk in grads.items():
            m, v = self.m[k], self.v[k]
            m *= self.b1
            m += (1 - self.b1) * gk
            v *= self.b2
            v += (1 - self.b2) * np.square(gk, dtype=np.float64)
            upd = factor * self.lrs[k] * (m / c1) / (np.sqrt(v / c2) + self.eps)
            self.p[k] -= upd.astype(self.p[k].dtype)


def graph_macs(g: Graph) -> int:
    return int(sum(OPS[n.op].macs(n) for n in g.nodes))


def _batches(data: dict, idx: np.ndarray, size: int):
    for i in range(0, len(idx), size):
        j = idx[i:i + size]
        yield j, {k: a[j] for k, a in data.items()}


def teacher_outputs(teacher: Graph, data: dict, features=(), batch: int = 256):
    """The teacher's logits (and named feature values) on every sample (float, no quant)."""
    net = Net(teacher, quant=False)
    data = dict(zip([v.name for v in teacher.inputs], data.values()))   # inputs in order
    want = [net.logits] + [_value(teacher, f) for f in features]
    outs = [[] for _ in want]
    n = len(next(iter(data.values())))
    for _, b in _batches(data, np.arange(n), batch):
        env, _ = net.forward(b)
        for o, v in zip(outs, want):
            o.append(env[id(v)])
    return [np.concatenate(o) for o in outs]


def shift_images(b: dict, rng, shifts: np.ndarray | None = None) -> dict:
    """Each sample of every 4-D image input moved by dy, dx in -1..1 (one shift per sample,
    the same for all inputs; drawn from rng, or shifts (n, 2)), zeros shifted in; other inputs
    unchanged. Layout: NCHW when axis 1 is smaller than axis 3 (one or few channels first),
    else NHWC."""
    n = len(next(iter(b.values())))
    sh = rng.integers(-1, 2, size=(n, 2)) if shifts is None else shifts
    out = {}
    for k, a in b.items():
        ax = (2, 3) if a.ndim == 4 and a.shape[1] < a.shape[3] else (1, 2)
        if a.ndim != 4 or min(a.shape[ax[0]], a.shape[ax[1]]) < 4:
            out[k] = a
            continue
        pad = [(0, 0)] * 4
        pad[ax[0]] = pad[ax[1]] = (1, 1)
        p = np.pad(a, pad)
        h, w = a.shape[ax[0]], a.shape[ax[1]]
        rows = []
        for i, (dy, dx) in enumerate(sh):
            sl = [slice(None)] * 3
            sl[ax[0] - 1] = slice(1 + dy, 1 + dy + h)
            sl[ax[1] - 1] = slice(1 + dx, 1 + dx + w)
            rows.append(p[i][tuple(sl)])
        out[k] = np.stack(rows)
    return out


def mix_samples(b: dict, fraction: float, rng) -> dict:
    """A fraction of the samples replaced by l x + (1 - l) x' with x' another sample of b (the
    same partner and l for every input), l uniform in [0, 1]."""
    n = len(next(iter(b.values())))
    pick = rng.random(n) < fraction
    partner = rng.permutation(n)
    lam = rng.random(n)
    out = {}
    for k, a in b.items():
        lk = lam.reshape((-1,) + (1,) * (a.ndim - 1)).astype(a.dtype)
        mixed = lk * a + (1 - lk) * a[partner]
        out[k] = np.where(pick.reshape(lk.shape), mixed, a)
    return out


def _value(g: Graph, name: str):
    for v in g.activations():
        if v.name == name:
            return v
    names = [n.outputs[0].name for n in g.nodes]
    raise TinycError(f"fine-tuning: no value '{name}' to match features on — the values are "
                     f"{names[:12]}{'...' if len(names) > 12 else ''}")


def finetune(g: Graph, data: dict[str, np.ndarray], labels=None, teacher: Graph | None = None,
             opts: FinetuneOptions | None = None, layers: dict | None = None,
             progress=None, original: Graph | None = None,
             calib: dict[str, np.ndarray] | None = None) -> dict:
    """Fine-tune the float graph g in place (quantization-aware, distilled from teacher).
    data: {input name: (N, ...) float samples}; labels: (N,) ints or None; teacher: a float
    graph with the same inputs and outputs (default: a copy of g before training); layers:
    the compression report's per-layer entries; original: the float graph before compression
    (palette layers' latent weights start at its weights; default: the teacher); calib: the
    calibration samples {input name: (M, ...)} (opts.ranges == "calib"). Returns a report."""
    import copy
    opts = opts or FinetuneOptions()
    if opts.epochs < 1:
        raise TinycError(f"finetune: epochs must be >= 1, got {opts.epochs}")
    teacher = teacher if teacher is not None else copy.deepcopy(g)
    n = len(next(iter(data.values())))
    if labels is not None:
        labels = np.asarray(labels).ravel()
        if len(labels) != n:
            raise TinycError(f"finetune: {len(labels)} labels for {n} training samples")
    temperature = opts.temperature if opts.temperature is not None else \
        2.0 if labels is not None else 4.0
    rng = np.random.default_rng(opts.seed)
    perm = rng.permutation(n)
    n_val = max(1, int(round(n * opts.val_fraction))) if n >= 10 else 0
    val_idx, tr_idx = np.sort(perm[:n_val]), perm[n_val:]
    t_out = teacher_outputs(teacher, data, opts.features)
    t_logits, t_feats = t_out[0], t_out[1:]
    from ...ir.interpret import float_data
    init = {n.name: float_data(n.inputs[1]) for n in (original or teacher).nodes
            if OPS[n.op].layer is not None}
    net = Net(g, layers, init=init)
    fvals = [_value(g, f) for f in opts.features]
    if t_logits.reshape(n, -1).shape[1] != np.prod(net.logits.shape[1:]):
        raise TinycError(f"finetune: the teacher's output {t_logits.shape[1:]} differs from "
                         f"the student's {net.logits.shape[1:]}")
    if opts.ranges not in ("calib", "ema", "lsq"):
        raise TinycError(f"finetune: ranges must be 'calib', 'ema' or 'lsq', got "
                         f"{opts.ranges!r}")
    use_calib = opts.ranges == "calib" and calib is not None
    if calib is not None:
        calib = dict(zip([v.name for v in g.inputs], calib.values()))
    if use_calib or (opts.ranges == "lsq" and calib is not None):
        net.calib_ranges(calib)
    else:   # initial activation ranges: min/max over the training samples (as calibration)
        for _, b in _batches(data, np.arange(n), 256):
            net.forward(b, update="minmax")
    if opts.ranges == "lsq":
        net.enable_lsq()
    params = net.params()
    def gap(k):
        book = np.unique(np.round(net.weights[k.rsplit("/", 1)[0]].params["book"]))
        return float(np.diff(book).min()) if book.size > 1 else 1.0
    lrs = {k: opts.book_lr * gap(k) if k.endswith("/book") else opts.scale_lr
           if k.endswith("/log_s") else opts.latent_lr * gap(k) if k.endswith("/u")
           else opts.range_lr * float(params[k][1] - params[k][0]) if k.endswith("/range")
           else opts.lr for k in params}
    adam = Adam(params, lrs)
    avg = {k: a.astype(np.float64) for k, a in params.items()} if opts.average else None
    macs = graph_macs(g)
    est = 3 * macs * len(tr_idx) * opts.epochs
    log.info("fine-tuning: %d epochs x %d samples x %.2f M MACs = %.1f G MACs (x3 with "
             "backward)", opts.epochs, len(tr_idx), macs / 1e6, est / 3e9)

    augment = opts.augment if opts.augment is not None else \
        3 if labels is None and not opts.features else 0
    # the held-out set: the held-out samples, and with augmentation each of them also moved
    # by all 8 one-pixel shifts (labelled by the teacher): 9x the samples to pick an epoch by
    v_data = {k: a[val_idx] for k, a in data.items()}
    v_t = t_logits[val_idx]
    v_lab = labels[val_idx] if labels is not None else None
    if augment and not opts.features and len(val_idx):
        moves = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx]
        copies = [shift_images(v_data, None, np.array([mv] * len(val_idx))) for mv in moves]
        v_data = {k: np.concatenate([a] + [c[k] for c in copies]) for k, a in v_data.items()}
        extra = teacher_outputs(teacher, {k: a[len(val_idx):] for k, a in v_data.items()})[0]
        v_t = np.concatenate([v_t, extra.reshape((-1,) + v_t.shape[1:])])
        v_lab = None if v_lab is None else np.tile(v_lab, 1 + len(moves))

    def evaluate(_idx=None):
        nv = len(v_t)
        if nv == 0:
            return float("nan"), float("nan")
        tot, hit = 0.0, 0
        for j, b in _batches(v_data, np.arange(nv), 256):
            env, _ = net.forward(b)
            s = env[id(net.logits)]
            loss = kl_loss(s, v_t[j], temperature)[0] * opts.kd_weight
            if v_lab is not None:
                loss += ce_loss(s, v_lab[j])[0] * opts.ce_weight
            ref = v_lab[j] if v_lab is not None else v_t[j].reshape(len(j), -1).argmax(1)
            hit += int(np.sum(s.reshape(len(j), -1).argmax(1) == ref))
            tot += loss * len(j)
        return tot / nv, hit / nv

    # early stopping on the held-out tenth: accuracy first, the loss breaking ties (labels);
    # the distillation loss alone (no labels: top-1 agreement on a tenth of a small
    # calibration set, e.g. 20 samples, is too coarse to pick an epoch by)
    def key(loss, acc):
        return (acc, -loss) if labels is not None else (-loss,)
    start = net.state()
    if calib is not None:           # held-out evaluations with the compiler's ranges
        net.calib_ranges(calib)
    l0, a0 = evaluate(val_idx)
    best = (key(l0, a0), net.state(), 0)
    net.load_state(start)
    history, bad, t0 = [], 0, time.perf_counter()
    mixup = opts.mixup
    if mixup and labels is not None:
        raise TinycError("finetune: mixup= needs training data without labels (a mixed image "
                         "has no label) — drop the labels or set mixup=0")
    per_epoch = len(tr_idx) * (1 + augment)
    steps = opts.epochs * ((per_epoch + opts.batch - 1) // opts.batch)
    step = 0
    t_net = Net(teacher, quant=False) if augment and not opts.features else None
    if t_net is None and augment:
        raise TinycError("finetune: augment= and features= together are not supported — "
                         "drop one of them")
    for epoch in range(1, opts.epochs + 1):
        pool = np.concatenate([tr_idx] * (1 + augment))
        shifted = np.arange(len(pool)) >= len(tr_idx)       # copies past the first: shifted
        perm = rng.permutation(len(pool))
        order, shifted = pool[perm], shifted[perm]
        tr_loss = 0.0
        for i0 in range(0, len(order), opts.batch):
            j, sj = order[i0:i0 + opts.batch], shifted[i0:i0 + opts.batch]
            b = {k: a[j] for k, a in data.items()}
            t_j = t_logits[j]
            if sj.any():
                moved = shift_images({k: a[sj] for k, a in b.items()}, rng)
                if mixup:
                    moved = mix_samples(moved, mixup, rng)
                for k in b:
                    b[k] = b[k].copy()
                    b[k][sj] = moved[k]
                tb = dict(zip([v.name for v in teacher.inputs], b.values()))
                t_j = t_j.copy()
                t_j[sj] = t_net.forward({k: a[sj] for k, a in tb.items()})[0][
                    id(t_net.logits)].reshape(t_j[sj].shape)
            if use_calib and step and step % max(opts.range_steps, 1) == 0:
                net.calib_ranges(calib)
            env, tape = net.forward(b, update=not use_calib)
            s = env[id(net.logits)]
            loss, grad = kl_loss(s, t_j, temperature)
            loss, grad = loss * opts.kd_weight, grad * opts.kd_weight
            if labels is not None:
                lc, gc = ce_loss(s, labels[j])
                loss, grad = loss + opts.ce_weight * lc, grad + opts.ce_weight * gc
            grads = {id(net.logits): grad}
            for v, tf in zip(fvals, t_feats):
                lf, gf = feature_loss(env[id(v)], tf[j])
                loss += lf
                grads[id(v)] = grads.get(id(v), 0) + gf
            factor = 0.5 * (1 + np.cos(np.pi * step / steps)) if opts.cosine else 1.0
            warm = opts.warmup * steps / opts.epochs
            if step < warm:
                factor *= (step + 1) / warm
            adam.step(net.backward(tape, grads), factor)
            net.project_lsq()
            step += 1
            if avg is not None:
                d = min(opts.average, (1 + step) / (10 + step))
                for k, a in params.items():
                    avg[k] *= d
                    avg[k] += (1 - d) * a
            tr_loss += loss * len(j)
        current = net.state()
        cands = [None] + ([avg] if avg is not None else [])
        improved = False
        for cand in cands:              # the trained parameters, then their moving average
            if cand is not None:
                net.load_state(({k: a.astype(params[k].dtype) for k, a in cand.items()},
                                current[1]))
            if calib is not None:
                net.calib_ranges(calib)
            vl, va = evaluate(val_idx)
            if cand is None:
                val_loss, val_acc = vl, va
            if n_val == 0 or key(vl, va) > best[0]:
                best, improved = (key(vl, va), net.state(), epoch), True
        net.load_state(current)
        elapsed = time.perf_counter() - t0
        row = {"epoch": epoch, "loss": round(tr_loss / max(len(order), 1), 5),
               "val_loss": round(val_loss, 5), "val_acc": round(val_acc, 4),
               "seconds": round(elapsed, 2)}
        history.append(row)
        if progress:
            progress(row, opts.epochs, elapsed / epoch * opts.epochs)
        if improved:
            bad = 0
        else:
            bad += 1
            if bad >= opts.patience:
                break
    net.load_state(best[1])
    net.store(g)
    return {"epochs": len(history), "best_epoch": best[2], "history": history,
            "train_samples": int(len(tr_idx)), "held_out": int(n_val),
            "labels": labels is not None, "macs_per_sample": macs,
            "seconds": round(time.perf_counter() - t0, 2)}


def fake_quant_predict(g: Graph, calib: list[dict[str, np.ndarray]], data: dict,
                       batch: int = 256) -> np.ndarray:
    """The training graph's fake-quantized forward pass with the activation ranges the
    compiler's calibration gives (min/max over the calibration samples, calibrate.py): the
    outputs the compiled model is predicted to give (dequantized)."""
    from ..calibrate import observe_ranges
    net = Net(g, dtype=np.float64)
    net.ranges = {id(v): r for v, r in observe_ranges(g, calib).items()}
    n = len(next(iter(data.values())))
    outs = []
    for j, b in _batches(data, np.arange(n), batch):
        env, _ = net.forward(b)
        outs.append(env[id(g.outputs[0])])
    return np.concatenate(outs)
