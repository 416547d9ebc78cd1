"""Arrow arrays made over numpy memory, for the staging's hot path.

pyarrow imports pandas the first time it converts a Python or numpy value (``pa.array``,
``pa.scalar``, a Python value passed to a compute function): 0.16 s of a 1M-line load, spent
while the server waits for the first rows, and a load needs nothing of pandas. These helpers
build the arrays from buffers instead, which converts nothing."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def from_numpy(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """An Arrow array of a 1-d numpy array of numbers; ``valid``: False where null."""
    values = np.ascontiguousarray(values)
    bitmap = None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(
        pa.from_numpy_dtype(values.dtype), len(values), [bitmap, pa.py_buffer(values)]
    )


def filled(n: int, value: int, dtype: type[np.integer]) -> pa.Array:
    """``n`` times the same integer."""
    return from_numpy(np.full(n, value, dtype=dtype))


def blank_as_null(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """String values with the empty ones made null (an empty string is the only one whose
    length casts to false): COPY reads an empty field as NULL."""
    blank = pc.invert(pc.cast(pc.binary_length(values), pa.bool_()))
    return pc.if_else(blank, pa.nulls(len(values), values.type), values)


def to_numpy(values: pa.Array, null_as: int | None = None) -> np.ndarray:
    """The numbers of an Arrow array of fixed-width numbers: a view when it holds no nulls,
    else a copy with ``null_as`` in their place (without one, nulls are an error)."""
    if values.null_count and null_as is None:
        raise ValueError("to_numpy: the array holds nulls")
    dtype = values.type.to_pandas_dtype()
    data = np.frombuffer(values.buffers()[1], dtype=dtype)
    data = data[values.offset : values.offset + len(values)]
    return np.where(validity(values), data, null_as) if values.null_count else data


def validity(values: pa.Array) -> np.ndarray:
    """True where ``values`` is not null."""
    n = len(values)
    bitmap = values.buffers()[0]
    if values.null_count == 0 or bitmap is None:
        return np.ones(n, dtype=bool)
    bits = np.unpackbits(np.frombuffer(bitmap, dtype=np.uint8), bitorder="little")
    return bits[values.offset : values.offset + n].astype(bool)
