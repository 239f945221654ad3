"""tinyc's error hierarchy: every user-facing failure is a TinycError with one clear line.

Message format: "{where}: {what} — expected {x}, got {y}. {hint}" where `where` is the file
and, inside a model, the node ('node 'conv1' (Conv, opset 13)'). The CLI prints
`error: <message>` and exits 2 for a TinycError; anything else is an internal error (exit 1,
with a request to report it together with the command and its input files).

    TinycError
      ModelError          the model file cannot be read, or is malformed or hostile
      UnsupportedOpError  an op, attribute or form tinyc does not compile
      IRError             an IR invariant or shape rule does not hold
      QuantizationError   calibration data or quantization parameters are missing or wrong
      DataError           a data file (calibration / test set / input) cannot be used
      OutputError         the output folder cannot be written as asked
      BoardError          unknown board, or the model does not fit it
      ToolchainError      an external tool (C compiler, QEMU) is missing or failed
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


class DataError(TinycError):
    """A data file (calibration set, test set, input array) is unreadable or unusable."""


class OutputError(TinycError):
    """The output folder is a file, holds other files, or cannot be written."""


class BoardError(TinycError):
    """Unknown board, or the model does not fit the board."""


class ToolchainError(TinycError):
    """An external tool (C compiler, QEMU) is missing or failed."""


def message(where: str, what: str, expected=None, got=None, hint: str = "") -> str:
    """One error line in tinyc's format: "where: what — expected x, got y. hint"."""
    text = f"{where}: {what}"
    if expected is not None:
        text += f" — expected {expected}" + (f", got {got}" if got is not None else "")
    return text + (f". {hint}" if hint else "")


def where(node=None, path=None) -> str:
    """Format the 'where' part of a message: file, node name and op."""
    parts = []
    if path:
        parts.append(str(path))
    if node is not None:
        parts.append(f"node '{node.name}' ({node.op})")
    return ": ".join(parts) if parts else "tinyc"


def did_you_mean(word: str, choices) -> str:
    """' — did you mean X?' for the closest of `choices` to `word`, or ''."""
    import difflib
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" — did you mean {close[0]}?" if close else ""
