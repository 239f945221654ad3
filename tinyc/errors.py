"""tinyc's error hierarchy: every user-facing failure is a TinycError with one clear line.

Message format: "{where}: {what} — expected {x}, got {y}. {hint}". The CLI prints
`error: <message>` and exits 2 for a TinycError; anything else is an internal error (exit 1).
"""


class TinycError(Exception):
    """Base of all errors caused by the user's input (model, options, data, board)."""


class ModelError(TinycError):
    """The model file cannot be read or is malformed."""


class UnsupportedOpError(TinycError):
    """The model uses an op (or an attribute of one) that tinyc does not support."""


class IRError(TinycError):
    """An IR invariant does not hold (raised by ir.verify)."""


class QuantizationError(TinycError):
    """Calibration data or quantization parameters are missing or wrong."""


class BoardError(TinycError):
    """Unknown board, or the model does not fit the board."""


class ToolchainError(TinycError):
    """An external tool (C compiler, QEMU) is missing or failed."""


def where(node=None, path=None) -> str:
    """Format the 'where' part of a message: file, node name and op."""
    parts = []
    if path:
        parts.append(str(path))
    if node is not None:
        parts.append(f"node '{node.name}' ({node.op})")
    return ": ".join(parts) if parts else "tinyc"
