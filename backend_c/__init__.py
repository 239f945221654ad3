"""The C backend: emit_c (graph + plan -> C folder) and build_host (C folder -> callable)."""
from .emit import emit_c, tinyc_version
from .host import HostModel, IOSpec, build_host, build_module
from .kernels import KERNELS, Kernel

__all__ = ["emit_c", "tinyc_version", "build_host", "build_module", "HostModel", "IOSpec",
           "KERNELS", "Kernel"]
