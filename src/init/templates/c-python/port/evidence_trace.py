"""One traced value per line, in the form evidence's parse-trace stage reads:

    TRACE_PY: key v1 v2 ...

trace(key, *values) takes floats, ints, bools (1/0), lists and tuples (nested ones row-major),
NumPy arrays and scalars and PyTorch tensors (on any device, with or without grad): anything
with .tolist(), after .detach().cpu() when it has those. Floats are printed with repr(), the
shortest text that reads back as the very same double, so no digit is lost, whatever the
array's or tensor's own printing would round. NumPy and PyTorch are never imported here.

    trace("pix0_vector_meters", x, y, z)
    trace("rotation", rot)                    # a 3x3 tensor: nine numbers, row-major
    trace("F_latt", f, prefix="TRACE_PY_PHI") # another label, e.g. for per-step records

Written by `evidence init`. Each line is flushed as it is written, so a crash loses none of the
lines before it.
"""
import math
import sys

PREFIX = "TRACE_PY"

__all__ = ["PREFIX", "trace"]


def _number(x):
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return repr(x)


def _flatten(value, out):
    if hasattr(value, "detach"):  # a tensor: out of the autograd graph, onto the CPU
        value = value.detach()
        if hasattr(value, "cpu"):
            value = value.cpu()
    if hasattr(value, "tolist") and not isinstance(value, (list, tuple, str, bytes)):
        value = value.tolist()  # arrays, tensors and NumPy scalars become Python numbers
    if isinstance(value, (list, tuple)):
        for v in value:
            _flatten(v, out)
    elif isinstance(value, bool):
        out.append("1" if value else "0")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(_number(value))
    elif isinstance(value, (str, bytes, complex)) or not hasattr(value, "__float__"):
        raise TypeError(f"trace: cannot print a {type(value).__name__} as numbers")
    else:  # Decimal, Fraction and other real numbers
        out.append(_number(float(value)))


def trace(key, *values, prefix=None, file=None):
    """Print `TRACE_PY: key v1 v2 ...` (or the given prefix) on stdout (or the given file)."""
    if not isinstance(key, str) or not key or any(c.isspace() or c == ":" for c in key):
        raise ValueError(f"trace: a key is one word without blanks or ':', got {key!r}")
    parts = []
    for v in values:
        _flatten(v, parts)
    if not parts:
        raise ValueError(f"trace: no values for {key!r}")
    stream = sys.stdout if file is None else file
    stream.write(f"{prefix or PREFIX}: {key} {' '.join(parts)}\n")
    stream.flush()
