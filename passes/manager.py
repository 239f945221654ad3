"""Run passes in order: each is `fn(graph) -> graph`; verify after each; log change counts."""
from __future__ import annotations

import logging
from typing import Callable

from ..ir import Graph, verify

log = logging.getLogger("tinyc.passes")
Pass = Callable[[Graph], Graph]


def run_passes(g: Graph, passes: list[Pass], check: bool = True) -> Graph:
    for p in passes:
        before = len(g.nodes)
        g = p(g)
        if check:
            verify(g)
        log.info("%s: %d -> %d nodes", p.__name__, before, len(g.nodes))
    return g
