#!/usr/bin/env python3
"""PyTorch itself as an nnconf backend, speaking nnconf-exec/1 over stdin/stdout.

    conformance run --backend exec:'python3 tools/torch_backend.py' Fixtures/conv

The protocol is in docs/external-backends.md ("Any language: the subprocess protocol"). This is
the reference client: running the bundled fixtures through it must pass every case it
supports, which proves the protocol carries arguments, values, errors, warnings and gradients
without loss. It resolves op names as the fixture generator does (tools/fixturegen/cases.py):
torch.nn.functional, then torch, then Tensor methods, and runs single-threaded with
deterministic algorithms, like the generator.

Only stdout carries the protocol; anything printed goes to stderr.
"""

import base64
import json
import os
import re
import sys
import time
import warnings

# The protocol owns the real stdout; print() and stray C-level writes go to stderr.
PROTOCOL = os.fdopen(os.dup(1), "w", encoding="utf-8", newline="\n")
os.dup2(2, 1)
sys.stdout = sys.stderr

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

PROTOCOL_VERSION = 1

DTYPES = {
    "float32": (torch.float32, np.dtype(np.float32)),
    "float64": (torch.float64, np.dtype(np.float64)),
    "int64": (torch.int64, np.dtype(np.int64)),
    "bool": (torch.bool, np.dtype(np.bool_)),
}
TORCH_TO_NAME = {t: name for name, (t, _) in DTYPES.items()}
NON_FINITE = {"inf": float("inf"), "-inf": float("-inf"), "nan": float("nan")}

# C++ warnings end with the build machine's source path; nnconf's fixtures strip it.
TRIGGERED_SUFFIX = re.compile(r"\s*\(Triggered internally at [^)]*\)\s*$")


def resolve(call):
    """The callable for an op name: torch.nn.functional, then torch, then a Tensor method."""
    for namespace in (F, torch):
        fn = getattr(namespace, call, None)
        if callable(fn):
            return fn
    method = getattr(torch.Tensor, call, None)
    if method is None:
        return None
    return lambda input, **kwargs: method(input, **kwargs)


def decode_tensor(doc):
    dtype_name = doc["dtype"]
    torch_dtype, np_dtype = DTYPES[dtype_name]
    shape = tuple(doc["shape"])
    if "b64" in doc:
        raw = base64.b64decode(doc["b64"])
        array = np.frombuffer(raw, dtype=np_dtype.newbyteorder("<")).astype(np_dtype).reshape(shape)
    elif "data" in doc:
        values = [float(v) if isinstance(v, str) else v for v in doc["data"]]
        array = np.array(values, dtype=np_dtype).reshape(shape)
    else:
        raise ValueError("nnconf-exec: tensors must come as 'b64' or 'data'")
    tensor = torch.from_numpy(array.copy())
    if doc.get("requires_grad"):
        tensor.requires_grad_(True)
    return tensor


def decode(value, key=None):
    """A JSON argument as the Python keyword argument: tensors decoded, `dtype="float64"` as
    torch.float64 (the generator writes torch dtypes by name), "inf", "-inf" and "nan" as
    floats (as fixtures spell them, e.g. `normalize(p="inf")`), lists kept as lists."""
    if isinstance(value, dict):
        if "shape" in value:
            return decode_tensor(value)
        raise ValueError(f"nnconf-exec: an object argument must be a tensor, got keys {sorted(value)}")
    if isinstance(value, list):
        return [decode(v) for v in value]
    if key == "dtype" and isinstance(value, str) and value in DTYPES:
        return DTYPES[value][0]
    if isinstance(value, str) and value in NON_FINITE:  # JSON has no infinity: nnconf/1 spells it
        return NON_FINITE[value]
    return value


def encode_tensor(tensor):
    tensor = tensor.detach().contiguous()
    if tensor.dtype not in TORCH_TO_NAME:
        raise TypeError(f"nnconf-exec: the op returned a {tensor.dtype} tensor, which nnconf/1 cannot carry")
    name = TORCH_TO_NAME[tensor.dtype]
    array = np.ascontiguousarray(tensor.numpy(), dtype=DTYPES[name][1].newbyteorder("<"))
    return {"shape": list(tensor.shape), "dtype": name, "b64": base64.b64encode(array.tobytes()).decode("ascii")}


def encode(value):
    if isinstance(value, torch.Tensor):
        return encode_tensor(value)
    if isinstance(value, (tuple, list)):
        return [encode(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"nnconf-exec: cannot encode an output of type {type(value).__name__}")


def first(result):
    return result[0] if isinstance(result, (tuple, list)) else result


class Backend:
    def __init__(self):
        # The graph of the last forward, so its backward need not run the forward again. The
        # protocol's `seed` would make a recomputation identical too, even for dropout.
        self.cached = None  # (forward id, inputs, output)

    def hello(self, msg):
        known = msg.get("ops")
        if not isinstance(known, list):  # a harness that does not send its list: our namespace
            known = [n for n in dir(F) if not n.startswith("_")]
        ops = [op for op in known if resolve(op) is not None]
        return {"nnconf-exec": PROTOCOL_VERSION, "type": "hello", "name": "torch",
                "version": torch.__version__.split("+")[0], "ops": ops, "dtypes": list(DTYPES),
                "backward": True, "programs": False,
                "details": f"PyTorch {torch.__version__} on CPU, {torch.get_num_threads()} thread, deterministic"}

    def call(self, msg):
        ident = msg["id"]
        fn = resolve(msg["op"])
        if fn is None:
            return {"type": "unsupported", "id": ident, "reason": f"torch has no op named {msg['op']!r}"}
        try:
            if msg.get("grad_output") is not None:
                return self.backward(msg, fn)
            return self.forward(msg, fn)
        except Exception as exc:  # noqa: BLE001 - every torch error is an answer
            return {"type": "error", "id": ident, "error": {"type": type(exc).__name__, "message": str(exc)}}

    def run(self, msg, fn):
        """Runs the forward; returns (inputs, output, warnings, milliseconds)."""
        if msg.get("seed") is not None:
            torch.manual_seed(msg["seed"])
        inputs = {k: decode(v, k) for k, v in msg.get("args", {}).items()}
        # As the generator (families/pooling.py): torch refuses max_unpool under deterministic
        # algorithms (a GPU race on repeated indices); on one CPU thread the last write wins.
        torch.use_deterministic_algorithms(not msg["op"].startswith("max_unpool"))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            start = time.perf_counter()
            output = fn(**inputs)
            ms = (time.perf_counter() - start) * 1000
        raised = [{"category": w.category.__name__, "message": TRIGGERED_SUFFIX.sub("", str(w.message))} for w in caught]
        return inputs, output, raised, ms

    def forward(self, msg, fn):
        self.cached = None
        inputs, output, raised, ms = self.run(msg, fn)
        root = first(output)
        if isinstance(root, torch.Tensor) and root.requires_grad:
            self.cached = (msg["id"], inputs, output)
        answer = {"type": "result", "id": msg["id"], "output": encode(output), "timing_ms": {"forward": ms}}
        if isinstance(root, torch.Tensor) and root.grad_fn is not None:
            answer["grad_fn"] = root.grad_fn.name()  # e.g. ConvolutionBackward0, for reports
        if raised:
            answer["warnings"] = raised
        return answer

    def backward(self, msg, fn):
        cached, self.cached = self.cached, None
        if cached is not None and cached[0] == msg.get("forward_id"):
            _, inputs, output = cached
            forward_ms = None
        else:  # stateless: run the forward again (same arguments, same seed)
            inputs, output, _, forward_ms = self.run(msg, fn)
        grad_output = decode_tensor(msg["grad_output"])
        start = time.perf_counter()
        torch.autograd.backward(first(output), grad_output)
        backward_ms = (time.perf_counter() - start) * 1000
        grads = {}
        for name in msg.get("grads", []):
            grad = inputs[name].grad if isinstance(inputs.get(name), torch.Tensor) else None
            grads[name] = None if grad is None else encode_tensor(grad)
        timing = {"backward": backward_ms}
        if forward_ms is not None:
            timing["forward"] = forward_ms
        return {"type": "result", "id": msg["id"], "grads": grads, "timing_ms": timing}


def main():
    torch.set_num_threads(1)  # as the generator: reduction order independent of the machine
    torch.use_deterministic_algorithms(True)
    backend = Backend()
    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        msg = json.loads(line)
        kind = msg.get("type")
        if kind == "bye":
            break
        if kind == "hello":
            answer = backend.hello(msg)
        elif kind == "call":
            answer = backend.call(msg)
        else:
            answer = {"type": "error", "id": msg.get("id"),
                      "error": {"type": "BackendError", "message": f"unknown message type {kind!r}"}}
        PROTOCOL.write(json.dumps(answer, separators=(",", ":")) + "\n")
        PROTOCOL.flush()


if __name__ == "__main__":
    main()
