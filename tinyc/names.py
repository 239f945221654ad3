"""Per-layer flags (--prune/--cluster/--weights/--activations LAYER=VALUE) name a layer the way
the user knows it: the IR tensor name tinyc prints, an ONNX node name, an ONNX output tensor
name, or the exporter's module path:
  * TorchScript exporter (torch.onnx.export(dynamo=False)): node names such as
    "/features/features.0/Conv" — module paths "features", "features.0";
  * dynamo exporter: node metadata_props "pkg.torch.onnx.name_scopes", the repr of a list of
    cumulative module paths ("['', 'classifier', 'classifier.1', 'linear']": root first, the
    node's own name last), and "namespace" ("features.0: torch.nn.Conv2d/conv2d: aten...").
Each alias maps to the ONNX output tensors of the nodes it names; the layer is the IR node of
that name (an IR layer is named after its ONNX node's first output). An alias naming more than
one layer (a block's path) is an error listing them; an unknown name gets "did you mean".
"""
from __future__ import annotations

import ast
from pathlib import Path

from .errors import TinycError, did_you_mean

PER_LAYER = ("prune", "cluster", "weights", "activations")


def _module_paths(node) -> list[str]:
    meta = {p.key: p.value for p in node.metadata_props}
    paths = []
    scopes = meta.get("pkg.torch.onnx.name_scopes")
    if scopes:
        try:
            items = ast.literal_eval(scopes)
        except (SyntaxError, ValueError):
            items = []
        if isinstance(items, (list, tuple)):
            paths += [str(s) for s in items if s]          # module paths and the node's name
    for part in meta.get("namespace", "").split("/"):
        name = part.split(":", 1)[0].strip()
        if name:
            paths.append(name)
    if node.name.startswith("/"):
        parts = [p for p in node.name.split("/") if p]
        paths += parts[:-1]                                 # "/features/features.0/Conv"
    return paths


def onnx_aliases(path) -> dict[str, set[str]]:
    """{alias: ONNX output tensor names} of an ONNX file (empty for other formats)."""
    if Path(str(path)).suffix.lower() != ".onnx":
        return {}
    import onnx
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception:           # noqa: BLE001  (the frontend reports a bad file)
        return {}
    out: dict[str, set[str]] = {}
    for node in model.graph.node:
        if not node.output:
            continue
        outs = {o for o in node.output if o}
        names = ([node.name] if node.name else []) + list(node.output) + _module_paths(node)
        for a in names:
            out.setdefault(a, set()).update(outs)
    return out


def resolve(options: dict, graph, aliases: dict[str, set[str]]) -> dict:
    """`options` with the keys of the per-layer dicts (PER_LAYER) turned into IR layer names."""
    from .ir import OPS
    layers = [n.name for n in graph.nodes if OPS[n.op].layer is not None
              or OPS[n.op].int16_layer]
    known = {n.name for n in graph.nodes}
    out = dict(options)
    for key in PER_LAYER:
        value = options.get(key)
        if not isinstance(value, dict):
            continue
        new: dict = {}
        for name, v in value.items():
            target = name if name in known else _alias(name, aliases, layers, key)
            if target in new and new[target] != v:
                raise TinycError(f"--{key}: layer '{target}' given twice (as '{name}' and "
                                 "another name) with different values — expected one")
            new[target] = v
        out[key] = new
    return out


def _alias(name: str, aliases: dict, layers: list[str], key: str) -> str:
    hits = sorted(aliases.get(name, set()) & set(layers))
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        raise TinycError(f"--{key} {name}=...: names {len(hits)} layers {hits} (a module or "
                         "block holding several) — expected one; give one of those names")
    hint = did_you_mean(name, layers + [a for a in aliases if aliases[a] & set(layers)])
    raise TinycError(f"--{key} {name}=...: no layer, ONNX node or module path of that name"
                     f"{hint} — the layers are {layers} (IR names; ONNX node names, output "
                     "tensor names and the exporter's module paths work too)")
