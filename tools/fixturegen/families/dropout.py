"""dropout, alpha_dropout, feature_alpha_dropout, dropout1d/2d/3d: `Fixtures/dropout/*.json`.

Eval mode (and p = 0, and an empty input) is the identity, so those cases carry torch's output.
A training call draws a random mask that no other generator reproduces, so those cases carry
`expect.dropout` (docs/fixture-format.md, "Random ops"): the harness checks the properties on
the backend's own output and gradient. Before writing such a case, `check_dropout` checks the
same properties, exactly, on torch's output for it, so the property is PyTorch's.
"""

import math

import numpy as np
import torch

from ..cases import FixtureFile, GenerationError, mod, ref
from ..tensors import RandInt, Uniform

ALPHA = 1.7580993408473766  # alpha dropout's α (SELU's λ·α)
SIGMA = 5
PS = (0, 0.2, 0.5, 0.9, 1)


def label(p):
    return "p" + str(p).replace(".", "_")


def dropout_expect(p, mask_dims=None, alpha=False):
    spec = {"p": p}
    if mask_dims is not None:
        spec["mask_dims"] = mask_dims
    if alpha:
        spec["alpha"] = True
    spec["sigma"] = SIGMA
    return {"dropout": spec}


def check_dropout(p, mask_dims, alpha):
    """`verify` for `FixtureFile.add_property`: torch's output is, element by element, exactly
    ATen's kept or dropped value (factors rounded to the dtype first), whole units agree, the
    kept fraction is within SIGMA·σ, and the gradient is grad_output times the same factor."""
    def verify(ident, inputs, output, grad_output, grads):
        x, y = inputs["input"].numpy(), output.numpy()
        t = x.dtype.type
        q = 1 - p
        if p == 1:
            kept, dropped, scale = np.full_like(x, np.nan), t(0), t(0)
        elif alpha:
            a = 1 / math.sqrt((ALPHA * ALPHA * p + 1) * q)
            b = t(ALPHA * a * p)
            kept, dropped, scale = x * t(a) + b, -t(ALPHA * a) + b, t(a)
        else:
            scale = t(1) / t(q)
            kept, dropped = x * scale, t(0)
        is_kept, is_dropped = y == kept, y == dropped
        if not np.all(is_kept | is_dropped):
            raise GenerationError(f"{ident}: an output is neither kept nor dropped")
        units = int(np.prod(x.shape[:x.ndim if mask_dims is None else mask_dims]))
        informative = (kept != dropped).reshape(units, -1)
        states = []  # per unit: True kept, False dropped, None unknown (no informative element)
        for row_kept, row_informative in zip(is_kept.reshape(units, -1), informative):
            seen = set(row_kept[row_informative])
            if len(seen) > 1:
                raise GenerationError(f"{ident}: a unit is partly dropped")
            states.append(seen.pop() if seen else None)
        known = [s for s in states if s is not None]
        if abs(sum(known) - len(known) * q) > SIGMA * math.sqrt(len(known) * q * p):
            raise GenerationError(f"{ident}: kept {sum(known)} of {len(known)}, outside the bound")
        if grad_output is not None:
            g = (grad_output.numpy() * scale).reshape(units, -1)
            gx = grads["input"].numpy().reshape(units, -1)
            for state, row, expected in zip(states, gx, g):
                if not (np.array_equal(row, expected) and state is not False
                        or np.array_equal(row, 0 * expected) and state is not True):
                    raise GenerationError(f"{ident}: the gradient does not use the forward's mask")
    return verify


def train(f, name, op, shape, p, tags, *, mask_dims=None, dtype="float32", warns=False, **extra):
    """A training-mode case judged by `expect.dropout`."""
    alpha = "alpha" in op
    args = {"input": Uniform(shape, dtype=dtype, requires_grad=False if extra.get("inplace") else None)}
    if p is not None:
        args["p"] = p
    args.update(extra)
    if op in ("alpha_dropout", "feature_alpha_dropout"):
        args["training"] = True
    effective = 0.5 if p is None else p
    f.add_property(name, op, args, ["dropout_family", op, "training"] + tags,
                   dropout_expect(effective, mask_dims, alpha), check_dropout(effective, mask_dims, alpha), warns=warns)


def every_p(f, op, shape, mask_dims=None):
    for p in PS:
        train(f, f"train_{label(p)}", op, shape, p, ["p"], mask_dims=mask_dims)


def eval_cases(f, op, shapes, warns=()):
    """Not training: the identity, with torch's output and gradient."""
    for shape in shapes:
        name = f"eval_rank{len(shape)}"
        f.add(name, op, {"input": Uniform(shape), "p": 0.5, "training": False},
              ["dropout_family", op, "eval", "identity"], warns=len(shape) in warns)
    f.add("eval_float64", op, {"input": Uniform(shapes[-1], dtype="float64"), "p": 0.3, "training": False},
          ["dropout_family", op, "eval", "identity", "float64"], warns=len(shapes[-1]) in warns)
    f.add("eval_inplace_leaf_requiring_grad", op,
          {"input": Uniform(shapes[-1]), "p": 0.5, "training": False, "inplace": True},
          ["dropout_family", op, "eval", "inplace"], warns=len(shapes[-1]) in warns)


def dropout_file():
    op = "dropout"
    f = FixtureFile("dropout/dropout")
    eval_cases(f, op, [(), (7,), (3, 5), (2, 3, 4), (2, 3, 2, 2)])
    f.add("train_empty_is_identity", op, {"input": Uniform((0, 4)), "p": 0.5}, ["dropout_family", op, "empty"])
    f.add("eval_int64", op, {"input": RandInt((3, 4), -5, 5), "training": False}, ["dropout_family", op, "int64"])
    f.add("train_p1_int64_is_zeros", op, {"input": RandInt((3, 4), -5, 5), "p": 1.0},
          ["dropout_family", op, "int64", "p"])
    every_p(f, op, (64, 64))
    train(f, "train_default_args", op, (64, 64), None, ["defaults"])
    train(f, "train_p_int_1", op, (8, 8), 1, ["p"])
    train(f, "train_float64", op, (64, 64), 0.3, ["float64"], dtype="float64")
    train(f, "train_large", op, (256, 256), 0.5, ["large"])
    for shape in [(), (4096,), (16, 16, 16), (4, 4, 4, 8, 8)]:
        train(f, f"train_rank{len(shape)}", op, shape, 0.4, ["rank"])
    train(f, "train_inplace", op, (64, 64), 0.3, ["inplace"], inplace=True)
    train(f, "train_inplace_p1", op, (8, 8), 1.0, ["inplace"], inplace=True)
    return f


def alpha_files():
    files = []
    for op, shape, mask_dims in (("alpha_dropout", (64, 64), None), ("feature_alpha_dropout", (32, 64, 2), 2)):
        f = FixtureFile(f"dropout/{op}")
        f.add("default_is_eval", op, {"input": Uniform((3, 4, 5))}, ["dropout_family", op, "eval", "defaults"])
        eval_cases(f, op, [(5,), (3, 4), (2, 3, 4)])
        every_p(f, op, shape, mask_dims)
        train(f, "train_float64", op, shape, 0.3, ["float64"], mask_dims=mask_dims, dtype="float64")
        train(f, "train_inplace", op, shape, 0.3, ["inplace"], mask_dims=mask_dims, inplace=True)
        files.append(f)
    train(files[0], "train_rank0", "alpha_dropout", (), 0.5, ["rank"])
    train(files[1], "train_rank2_channel_is_element", "feature_alpha_dropout", (64, 64), 0.5, ["rank"], mask_dims=2)
    train(files[1], "train_rank4", "feature_alpha_dropout", (16, 64, 3, 3), 0.5, ["rank"], mask_dims=2)
    return files


# op: (batched shape, unbatched shape or None, eval shapes, ranks that warn, extra (label, shape, mask_dims) cases)
CHANNEL_OPS = {
    "dropout1d": ((32, 64, 8), (512, 8), [(32, 8), (4, 6, 8)], (), []),
    "dropout2d": ((16, 64, 3, 3), None, [(5,), (4, 6), (3, 4, 5), (2, 3, 4, 4)], (1, 2, 3, 5, 6),
                  [("rank3_read_as_batched_1d", (32, 64, 4), 2), ("rank2_each_element_a_channel", (64, 64), 2),
                   ("rank5", (8, 64, 2, 2, 2), 2)]),
    "dropout3d": ((16, 64, 2, 2, 2), (512, 2, 2, 2), [(5,), (3, 4, 2), (3, 4, 2, 2), (2, 3, 4, 2, 2)], (0, 1, 2, 3, 6),
                  [("rank1_each_element_a_channel", (2048,), 1), ("rank2", (1024, 4), 1), ("rank3", (256, 4, 4), 1),
                   ("rank6", (256, 2, 2, 2, 2, 2), 1)]),
}


def channel_file(op):
    batched, unbatched, eval_shapes, warn_ranks, extra = CHANNEL_OPS[op]
    f = FixtureFile(f"dropout/{op}")
    eval_cases(f, op, eval_shapes, warns=warn_ranks)
    every_p(f, op, batched, mask_dims=2)
    train(f, "train_default_args", op, batched, None, ["defaults"], mask_dims=2)
    train(f, "train_float64", op, batched, 0.3, ["float64"], mask_dims=2, dtype="float64")
    train(f, "train_inplace", op, batched, 0.3, ["inplace"], mask_dims=2, inplace=True)
    if unbatched:
        train(f, "train_unbatched", op, unbatched, 0.3, ["unbatched"], mask_dims=1)
        train(f, "train_unbatched_inplace", op, unbatched, 0.3, ["unbatched", "inplace"], mask_dims=1, inplace=True)
    for name, shape, mask_dims in extra:
        train(f, f"train_{name}", op, shape, 0.3, ["rank", "warning"], mask_dims=mask_dims, warns=True)
    return f


OPS = ("dropout", "alpha_dropout", "feature_alpha_dropout", "dropout1d", "dropout2d", "dropout3d")


def errors_file():
    f = FixtureFile("dropout/errors")
    for op in OPS:
        for p in (-0.1, 1.5, 2):
            f.add(f"{op}_p_{str(p).replace('.', '_').replace('-', 'neg')}", op,
                  {"input": Uniform((2, 3, 4)), "p": p}, ["dropout_family", op, "error", "p"], error=True)
    for rank in (0, 1, 4):
        shape = (2, 3, 4, 5)[:rank]
        f.add(f"dropout1d_rank{rank}", "dropout1d", {"input": Uniform(shape), "training": False},
              ["dropout_family", "dropout1d", "error", "rank"], error=True)
    for op, shape in (("dropout2d", (5,)), ("dropout2d", ()), ("dropout3d", ()), ("feature_alpha_dropout", (5,))):
        f.add(f"{op}_rank{len(shape)}_training", op, {"input": Uniform(shape), "p": 0.5, "training": True},
              ["dropout_family", op, "error", "rank"], error=True, warns=op != "feature_alpha_dropout")
    f.add("dropout_int64_training", "dropout", {"input": RandInt((3, 4), 0, 5), "p": 0.5},
          ["dropout_family", "dropout", "error", "int64"], error=True)
    f.add("alpha_dropout_int64_training", "alpha_dropout", {"input": RandInt((3, 4), 0, 5), "p": 0.5, "training": True},
          ["dropout_family", "alpha_dropout", "error", "int64"], error=True)
    leaf = Uniform((4, 6, 5), requires_grad=True)
    for name, op, extra in (("dropout", "dropout", {}), ("dropout_p1", "dropout", {"p": 1.0}),
                            ("alpha_dropout", "alpha_dropout", {"training": True}),
                            ("dropout2d", "dropout2d", {}),
                            ("dropout3d_unbatched_even_in_eval", "dropout3d", {"training": False})):
        f.add(f"{name}_inplace_on_leaf_requiring_grad", op, {"input": leaf, "inplace": True, **extra},
              ["dropout_family", op, "error", "inplace"], error=True, warns=op == "dropout2d" or op == "dropout3d")
    return f


def modules(f):
    """eval() is the identity; train mode drops even under no_grad; F.dropout ignores the
    module's mode (training=True by default). p = 1 makes dropping deterministic: zeros."""
    x = Uniform((4, 8))
    with f.program("module_eval_is_identity", ["dropout_family", "Dropout", "eval"]) as p:
        p.tensor("x", x, requires_grad=True)
        p.module("drop", mod("Dropout", p=0.5))
        p.train("drop", False)
        p.forward("drop", "y", input=ref("x"))
        p.check_value("y")
        p.check_attrs("y")
        p.call("sum", "s", input=ref("y"))
        p.backward("s")
        p.check_grad("x")
    with f.program("module_train_under_no_grad_still_drops", ["dropout_family", "Dropout", "no_grad", "train"]) as p:
        p.tensor("x", x, requires_grad=True)
        p.module("drop", mod("Dropout", p=1.0))
        with p.no_grad():
            p.forward("drop", "y", input=ref("x"))
        p.check_value("y")
        p.check_attrs("y")
    with f.program("module_eval_vs_functional_training", ["dropout_family", "Dropout", "eval", "functional"]) as p:
        p.tensor("x", x, requires_grad=True)
        p.module("drop", mod("Dropout", p=1.0))
        p.train("drop", False)
        p.forward("drop", "y", input=ref("x"))
        p.check_value("y")
        p.call("dropout", "z", input=ref("x"), p=1.0)
        p.check_value("z")
        p.check_attrs("z")
    with f.program("module_train_p0_is_identity", ["dropout_family", "Dropout", "train"]) as p:
        p.tensor("x", x, requires_grad=True)
        p.module("drop", mod("Dropout", p=0.0))
        p.forward("drop", "y", input=ref("x"))
        p.check_value("y")
        p.check_attrs("y")
    for cls, shape in (("Dropout1d", (6, 8)), ("Dropout2d", (2, 3, 4, 4)), ("Dropout3d", (3, 2, 2, 2)),
                       ("AlphaDropout", (4, 8))):
        with f.program(f"{cls.lower()}_module_train_then_eval", ["dropout_family", cls, "train", "eval"]) as p:
            p.tensor("x", Uniform(shape), requires_grad=True)
            p.module("drop", mod(cls, p=1.0))
            p.forward("drop", "y", input=ref("x"))
            p.check_value("y")
            p.check_attrs("y")
            p.train("drop", False)
            p.forward("drop", "z", input=ref("x"))
            p.check_value("z")
            p.check_attrs("z")


def autograd(f):
    """grad_fn names and versions (deterministic even when values are not), saved masks."""
    with f.program("grad_fn_names", ["dropout_family", "grad_fn"]) as p:
        p.tensor("x", Uniform((6, 8)), requires_grad=True)
        for let, op, args in (("a", "dropout", {"p": 0.5}), ("b", "alpha_dropout", {"p": 0.5, "training": True}),
                              ("c", "dropout1d", {"p": 0.5}), ("d", "dropout1d", {"p": 0.5, "training": False}),
                              ("e", "dropout", {"p": 0.5, "training": False}), ("g", "dropout", {"p": 0.0})):
            p.call(op, let, input=ref("x"), **args)
            p.check_attrs(let, version=True)
    with f.program("backward_twice_needs_the_saved_mask", ["dropout_family", "backward", "error"]) as p:
        p.tensor("x", Uniform((6, 8)), requires_grad=True)
        p.call("dropout", "y", input=ref("x"), p=0.5)
        p.call("sum", "s", input=ref("y"))
        p.backward("s")
        p.backward("s", error=True)
    with f.program("p1_gradient_is_zero", ["dropout_family", "backward", "p"]) as p:
        p.tensor("x", Uniform((6, 8)), requires_grad=True)
        p.call("dropout", "y", input=ref("x"), p=1.0)
        p.call("sum", "s", input=ref("y"))
        p.backward("s")
        p.check_grad("x")


def inplace(f):
    """In-place forms write only when they drop; unsqueeze_/squeeze_ of unbatched inputs always."""
    for name, op, shape, args in (("dropout_p1", "dropout", (4, 8), {"p": 1.0}),
                                  ("dropout_p0", "dropout", (4, 8), {"p": 0.0}),
                                  ("alpha_dropout_p1", "alpha_dropout", (4, 8), {"p": 1.0, "training": True}),
                                  ("dropout1d_unbatched_p1", "dropout1d", (6, 8), {"p": 1.0}),
                                  ("dropout1d_unbatched_eval", "dropout1d", (6, 8), {"training": False})):
        with f.program(f"inplace_{name}_on_non_leaf", ["dropout_family", op, "inplace"]) as p:
            p.tensor("x", Uniform(shape), requires_grad=True)
            p.call("mul", "h", input=ref("x"), other=2.0)
            p.call(op, input=ref("h"), inplace=True, **args)
            p.check_value("h")
            p.check_attrs("h", version=True)
            p.call("sum", "s", input=ref("h"))
            p.backward("s")
            p.check_grad("x")
    with f.program("inplace_random_on_non_leaf_attrs", ["dropout_family", "inplace", "grad_fn"]) as p:
        p.tensor("x", Uniform((6, 8)), requires_grad=True)
        for let, op, args in (("a", "dropout", {"p": 0.5}), ("b", "alpha_dropout", {"p": 0.5, "training": True}),
                              ("c", "feature_alpha_dropout", {"p": 0.5, "training": True}),
                              ("d", "dropout1d", {"p": 0.5})):
            p.call("mul", let, input=ref("x"), other=2.0)
            p.call(op, input=ref(let), inplace=True, **args)
            p.check_attrs(let, version=True)
    with f.program("inplace_module_on_leaf", ["dropout_family", "Dropout", "inplace", "error"]) as p:
        p.tensor("x", Uniform((4, 8)), requires_grad=True)
        p.module("drop", mod("Dropout", p=0.5, inplace=True))
        p.forward("drop", input=ref("x"), error=True)
        p.train("drop", False)
        p.forward("drop", "y", input=ref("x"))
        p.check_attrs("y", version=True)
    with f.program("inplace_on_leaf_under_no_grad", ["dropout_family", "inplace", "no_grad"]) as p:
        p.tensor("x", Uniform((4, 8)), requires_grad=True)
        with p.no_grad():
            p.call("dropout", input=ref("x"), p=1.0, inplace=True)
        p.check_value("x")
        p.check_attrs("x", version=True)


def programs_file():
    f = FixtureFile("dropout/programs")
    modules(f)
    autograd(f)
    inplace(f)
    return f


def build():
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)  # torch's masks are only checked, never written; this keeps runs alike
        return [dropout_file(), *alpha_files(), *(channel_file(op) for op in CHANNEL_OPS), errors_file(),
                programs_file()]
