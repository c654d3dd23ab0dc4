"""Tensor specs (how a generator asks for an input) and the nnconf/1 tensor encodings.

Thresholds (docs/fixtures.md):
- inputs of at most DATA_MAX elements are written as `data`; larger SplitMix64 inputs as `init`,
  larger inputs with hand-placed values (exact zeros, NaN, ...) as `b64`;
- expected outputs and gradients are `data` up to DATA_MAX elements, `b64` above.
"""

import base64
import math
from dataclasses import dataclass

import numpy as np
import torch

from . import rng

DATA_MAX = 64

# dtype name -> (torch dtype, native numpy dtype); b64 converts to little-endian explicitly.
DTYPES = {
    "float32": (torch.float32, np.dtype(np.float32)),
    "float64": (torch.float64, np.dtype(np.float64)),
    "int64": (torch.int64, np.dtype(np.int64)),
    "bool": (torch.bool, np.dtype(np.bool_)),
}
TORCH_TO_NAME = {t: name for name, (t, _) in DTYPES.items()}
NUMPY_TO_NAME = {n: name for name, (_, n) in DTYPES.items()}
FLOAT_DTYPES = ("float32", "float64")


def numel(shape):
    return int(np.prod(shape, dtype=np.int64))


@dataclass(frozen=True)
class Uniform:
    """SplitMix64 `uniform: [lo, hi]` input; the seed is assigned by the case builder."""

    shape: tuple
    lo: float = -1.0
    hi: float = 1.0
    dtype: str = "float32"
    requires_grad: bool = None  # None: the builder decides (floating inputs of forward cases)


@dataclass(frozen=True)
class RandInt:
    """SplitMix64 `randint: [lo, hi]` input (never requires grad)."""

    shape: tuple
    lo: int
    hi: int
    dtype: str = "int64"
    requires_grad: bool = False


@dataclass(frozen=True, eq=False)
class Given:
    """Explicit values (exact zeros, NaN, infinities); written as `data` or `b64`."""

    array: np.ndarray
    requires_grad: bool = None

    @property
    def shape(self):
        return tuple(self.array.shape)

    @property
    def dtype(self):
        return NUMPY_TO_NAME[self.array.dtype]


def given(values, dtype="float32", shape=None, requires_grad=None):
    """A `Given` from a (nested) list; strings "nan"/"inf"/"-inf" are accepted."""
    nested = np.array(values, dtype=object)
    flat = [float(v) if isinstance(v, str) else v for v in nested.ravel()]
    array = np.array(flat, dtype=DTYPES[dtype][1]).reshape(nested.shape if shape is None else shape)
    return Given(array, requires_grad)


def sample(spec, seed):
    """The numpy values of a spec for a given seed."""
    if isinstance(spec, Uniform):
        return rng.uniform(spec.shape, spec.lo, spec.hi, seed, DTYPES[spec.dtype][1])
    if isinstance(spec, RandInt):
        return rng.randint(spec.shape, spec.lo, spec.hi, seed)
    if isinstance(spec, Given):
        return spec.array
    raise TypeError(f"not a tensor spec: {spec!r}")


def _scalar_json(value, dtype):
    if dtype == "bool":
        return bool(value)
    if dtype == "int64":
        return int(value)
    value = float(value)  # exact: float32 -> float64 widening loses nothing
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value  # json writes repr(): the shortest text that reads back as this double


def data_json(array, dtype):
    return {"shape": list(array.shape), "dtype": dtype,
            "data": [_scalar_json(v, dtype) for v in np.ravel(array)]}


def b64_json(array, dtype):
    raw = np.ascontiguousarray(array, dtype=DTYPES[dtype][1].newbyteorder("<")).tobytes()
    encoded = base64.b64encode(raw).decode("ascii")
    return {"shape": list(array.shape), "dtype": dtype, "b64": encoded}


def input_json(spec, seed, array):
    """The fixture form of an input: `data` when small, else `init` (SplitMix64) or `b64`."""
    if numel(spec.shape) <= DATA_MAX:
        return data_json(array, spec.dtype)
    if isinstance(spec, Uniform):
        return {"shape": list(spec.shape), "dtype": spec.dtype,
                "init": {"uniform": [spec.lo, spec.hi], "seed": seed}}
    if isinstance(spec, RandInt):
        return {"shape": list(spec.shape), "dtype": spec.dtype,
                "init": {"randint": [spec.lo, spec.hi], "seed": seed}}
    return b64_json(array, spec.dtype)


def make_input(spec, seed, requires_grad):
    """(fixture json, torch tensor) for an input spec; the json decodes to exactly the tensor."""
    array = sample(spec, seed)
    doc = input_json(spec, seed, array)
    tensor = torch.from_numpy(np.array(array, dtype=DTYPES[spec.dtype][1]))
    assert np.array_equal(decode(doc), array, equal_nan=True), "input encoding does not round-trip"
    if requires_grad:
        doc["requires_grad"] = True
        tensor.requires_grad_(True)
    return doc, tensor


def value_json(tensor):
    """Expected output / gradient: `data` up to DATA_MAX elements, else `b64`."""
    tensor = tensor.detach().contiguous()
    dtype = TORCH_TO_NAME[tensor.dtype]
    array = tensor.numpy()
    if array.size <= DATA_MAX:
        return data_json(array, dtype)
    return b64_json(array, dtype)


def decode(doc):
    """numpy values of a fixture tensor (independent of the encoder, used for self-checks)."""
    shape = tuple(doc["shape"])
    dtype = doc["dtype"]
    np_dtype = DTYPES[dtype][1]
    if "data" in doc:
        values = [float(v) if isinstance(v, str) else v for v in doc["data"]]
        return np.array(values, dtype=np_dtype).reshape(shape)
    if "b64" in doc:
        raw = base64.b64decode(doc["b64"])
        return np.frombuffer(raw, dtype=np_dtype.newbyteorder("<")).astype(np_dtype).reshape(shape)
    init = doc["init"]
    if "uniform" in init:
        lo, hi = init["uniform"]
        return rng.uniform(shape, lo, hi, init["seed"], np_dtype)
    lo, hi = init["randint"]
    return rng.randint(shape, lo, hi, init["seed"]).astype(np_dtype)
