"""schedule: choose an execution order that lowers peak memory where the graph allows
(branches, residual blocks), as a list scheduler: among the nodes whose inputs are ready, run
the one that leaves the fewest bytes alive (ties: original order). Keeps the original order
unless the new one has a strictly lower peak. Never changes results (only the order of
independent nodes)."""
from __future__ import annotations

from ..ir import Graph, Node


def _peak(g: Graph, order: list[Node]) -> int:
    last_use: dict[int, int] = {}
    for step, n in enumerate(order):
        for v in n.inputs:
            if v is not None and not v.is_const:
                last_use[id(v)] = step
    outputs = {id(v) for v in g.outputs}
    live = {id(v): v.type.nbytes for v in g.inputs}
    peak = sum(live.values())
    for step, n in enumerate(order):
        for v in n.outputs:
            live[id(v)] = v.type.nbytes
        peak = max(peak, sum(live.values()))
        for k in [k for k in live if last_use.get(k, -1) <= step and k not in outputs]:
            del live[k]
    return peak


def _greedy_order(g: Graph) -> list[Node]:
    index = {id(n): i for i, n in enumerate(g.nodes)}
    remaining_uses = {id(v): len(v.uses) for n in g.nodes for v in n.outputs}
    remaining_uses.update({id(v): len(v.uses) for v in g.inputs})
    ready_values = {id(v) for v in g.inputs}
    pending = list(g.nodes)
    order: list[Node] = []
    while pending:
        ready = [n for n in pending if all(v is None or v.is_const or id(v) in ready_values
                                           for v in n.inputs)]

        def freed(n: Node) -> int:
            dying = {id(v): v.type.nbytes for v in n.inputs if v is not None and not v.is_const
                     and remaining_uses[id(v)] == sum(1 for u in n.inputs if u is v)}
            return sum(v.type.nbytes for v in n.outputs) - sum(dying.values())
        best = min(ready, key=lambda n: (freed(n), index[id(n)]))
        order.append(best)
        pending.remove(best)
        for v in best.inputs:
            if v is not None and not v.is_const:
                remaining_uses[id(v)] -= 1
        ready_values.update(id(v) for v in best.outputs)
    return order


def schedule(g: Graph) -> Graph:
    order = _greedy_order(g)
    if _peak(g, order) < _peak(g, g.nodes):
        g.nodes = order
    return g
