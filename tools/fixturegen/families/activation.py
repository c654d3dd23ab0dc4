"""Activations of torch.nn.functional: `Fixtures/activation/<op>.json` for each elementwise
activation (shapes, parameters, special values and the corners of piecewise functions, float64,
int64, in-place forms), `prelu.json`, `glu.json`, `inplace.json` (programs: what the backward of
each form saves, hence which in-place write breaks it) and `errors.json`.
"""

from ..cases import FixtureFile, ref
from ..tensors import RandInt, Uniform, given

SHAPES = [("scalar_0d", ()), ("vector", (7,)), ("matrix", (3, 5)), ("rank4", (2, 3, 4, 5)),
          ("empty", (0, 3)), ("large", (2, 8, 12, 12))]

# NaN, infinities, signed zeros, tiny values, the corners of hardswish/hardsigmoid/relu6, and
# magnitudes where exp overflows (float32: x > 88.72) or a sigmoid saturates.
SPECIAL_VALUES = ["nan", "inf", "-inf", 0.0, -0.0, 1e-8, -1e-8, 0.5, -0.5, 1.0, -1.0, 3.0, -3.0,
                  6.0, -6.0, 20.0, -20.0, 89.0, -89.0, 100.0, -104.0]


class Op:
    """One elementwise activation: its parameter variants and the points where it has corners."""

    def __init__(self, name, params=(), corners=(), lo=-4.0, hi=4.0, int64=None, inplace=None):
        self.name = name
        self.params = list(params)    # (label, kwargs, corners for those kwargs)
        self.corners = list(corners)  # corners at the default parameters
        self.lo, self.hi = lo, hi
        self.int64 = int64            # "int64" (kept) or "float32" (promoted) when integers work
        self.inplace = inplace        # torch.nn.functional's in-place name, if it has one


OPS = [
    Op("relu6", corners=[6.0, 5.9999995, 6.0000005, 1e-30], lo=-3, hi=9, int64="int64", inplace="relu6"),
    Op("leaky_relu", params=[("slope_0_2", {"negative_slope": 0.2}, [0.0]),
                             ("slope_zero", {"negative_slope": 0.0}, [0.0]),
                             ("slope_negative", {"negative_slope": -0.5}, [0.0]),
                             ("slope_above_one", {"negative_slope": 1.5}, [0.0]),
                             ("slope_int", {"negative_slope": 2}, [0.0])],
       corners=[1e-30, -1e-30], inplace="leaky_relu_"),
    Op("elu", params=[("alpha_0_5", {"alpha": 0.5}, [-1e-4]), ("alpha_int", {"alpha": 2}, [-1e-4]),
                      ("alpha_zero", {"alpha": 0.0}, []), ("alpha_negative", {"alpha": -0.7}, [-1e-4])],
       corners=[-1e-4, -1e-6, 1e-30, -1e-30], inplace="elu_"),
    Op("selu", corners=[-1e-4, -1e-6, 1e-30, -1e-30], inplace="selu_"),
    Op("celu", params=[("alpha_0_3", {"alpha": 0.3}, [-1e-4]), ("alpha_2", {"alpha": 2.0}, [-1e-4]),
                       ("alpha_negative", {"alpha": -1.5}, [-1e-4])],
       corners=[-1e-4, -1e-6, 1e-30], inplace="celu_"),
    Op("gelu", params=[("tanh", {"approximate": "tanh"}, [-5.0, 10.0, -10.0, 30.0, -30.0]),
                       ("none_explicit", {"approximate": "none"}, [-5.0, 10.0, -10.0])],
       corners=[-5.0, 10.0, -10.0, 30.0, -30.0]),
    Op("silu", corners=[-30.0, 30.0], lo=-8, hi=8, inplace="silu"),
    Op("mish", corners=[-30.0, 30.0, 87.0], lo=-8, hi=8, inplace="mish"),
    Op("softplus", params=[("beta2_threshold5", {"beta": 2, "threshold": 5}, [2.5, 2.4999998, 2.5000002]),
                           ("beta_half_threshold30", {"beta": 0.5, "threshold": 30}, [60.0, 59.999996]),
                           ("beta_negative", {"beta": -1.0}, [-20.0, -20.000002]),
                           ("threshold_zero", {"threshold": 0}, [0.0, 1e-30]),
                           ("beta_int", {"beta": 3}, [6.6666665, 6.666667])],
       corners=[19.999998, 20.000002, 30.0], lo=-25, hi=25),
    Op("softsign", corners=[1e30, -1e30], int64="float32"),
    Op("hardtanh", params=[("min_neg2_max3", {"min_val": -2.0, "max_val": 3.0}, [-2.0, 3.0]),
                           ("min_equals_max", {"min_val": 0.5, "max_val": 0.5}, [0.5]),
                           ("int_bounds", {"min_val": 0, "max_val": 6}, [0.0, 6.0])],
       corners=[0.99999994, 1.0000001, -0.99999994, -1.0000001], int64="int64", inplace="hardtanh_"),
    Op("hardswish", corners=[2.9999998, 3.0000002, -2.9999998, -3.0000002], lo=-5, hi=5, inplace="hardswish"),
    Op("hardsigmoid", corners=[2.9999998, 3.0000002, -2.9999998, -3.0000002], lo=-5, hi=5,
       inplace="hardsigmoid"),
    Op("threshold", params=[("zero_zero", {"threshold": 0.0, "value": 0.0}, [0.0]),
                            ("negative_threshold", {"threshold": -1.0, "value": 2.5}, [-1.0, -0.99999994]),
                            ("int_args", {"threshold": 1, "value": -2}, [1.0])],
       corners=[0.5, 0.49999997, 0.50000006], int64="int64", inplace="threshold_"),
    Op("logsigmoid", corners=[-30.0, 30.0, -800.0], lo=-10, hi=10),
    Op("tanhshrink", corners=[1e-4, -1e-4, 10.0], int64="float32"),
    Op("softshrink", params=[("lambd_zero", {"lambd": 0.0}, []), ("lambd_1_5", {"lambd": 1.5}, [1.5, -1.5]),
                             ("lambd_int", {"lambd": 2}, [2.0, -2.0])],
       corners=[0.49999997, 0.50000006, -0.49999997, -0.50000006]),
    Op("hardshrink", params=[("lambd_zero", {"lambd": 0.0}, []), ("lambd_1_5", {"lambd": 1.5}, [1.5, -1.5]),
                             ("lambd_negative", {"lambd": -0.5}, [])],
       corners=[0.49999997, 0.50000006, -0.49999997, -0.50000006]),
    Op("rrelu", params=[("bounds", {"lower": 0.1, "upper": 0.5}, []),
                        ("equal_bounds", {"lower": 0.2, "upper": 0.2}, []),
                        ("training_false", {"training": False}, []),
                        ("negative_bounds", {"lower": -0.5, "upper": -0.1}, [])],
       inplace="rrelu_"),
]
BY_NAME = {op.name: op for op in OPS}
# torch.nn.functional's in-place names (the rest have only `inplace=True`).
INPLACE_NAMES = ("leaky_relu_", "elu_", "selu_", "celu_", "hardtanh_", "threshold_", "rrelu_")


def required(op):
    """Arguments F requires besides input."""
    return {"threshold": 0.5, "value": -1.0} if op.name == "threshold" else {}


def special_input(op, corners, dtype="float32", kwargs=None):
    """Special values and corners in the first 32 of 40 elements, where ATen's vectorised loops
    run (the last 8 go through its scalar loop, which disagrees at NaN for some backwards)."""
    values = SPECIAL_VALUES + list(corners)
    if op.name == "gelu" and dtype == "float32" and (kwargs or {}).get("approximate", "none") == "none":
        # float32 gelu of more than one element runs in oneDNN, whose gelu(+inf) is NaN (ATen's own
        # kernel, used for one element and for float64, gives +inf).
        values.remove("inf")
    assert len(values) <= 32, op.name
    return given(values + [0.25 * k - 1.9 for k in range(40 - len(values))], dtype)


def op_file(op):
    f = FixtureFile(f"activation/{op.name}")
    base = ["activation", op.name]
    req = required(op)
    for label, shape in SHAPES:
        # One to seven elements drawn over the whole range can all land where the op is flat
        # (hardtanh's clamp, softplus's tail): a quarter of the range keeps them informative.
        # (Not for the shrinks, which are zero around 0.)
        narrow = label in ("scalar_0d", "vector") and op.name not in ("hardshrink", "softshrink")
        lo, hi = (op.lo / 4, op.hi / 4) if narrow else (op.lo, op.hi)
        f.add(label, op.name, {"input": Uniform(shape, lo, hi), **req}, base + [label])
    f.add("float64", op.name, {"input": Uniform((3, 5), op.lo, op.hi, "float64"), **req}, base + ["float64"])
    f.add("float64_large", op.name, {"input": Uniform((4, 6, 8), op.lo, op.hi, "float64"), **req},
          base + ["float64", "large"])
    f.add("special_values", op.name, {"input": special_input(op, op.corners), **req},
          base + ["special_values", "nan", "inf", "boundary"])
    f.add("float64_special_values", op.name, {"input": special_input(op, op.corners, "float64"), **req},
          base + ["special_values", "float64", "boundary"])
    for label, kwargs, corners in op.params:
        args = {"input": Uniform((3, 5), op.lo, op.hi), **kwargs}
        f.add(label, op.name, args, base + ["parameters"])
        f.add(f"{label}_special_values", op.name, {"input": special_input(op, corners, kwargs=kwargs), **kwargs},
              base + ["parameters", "special_values", "boundary"])
        f.add(f"{label}_float64", op.name, {"input": Uniform((2, 7), op.lo, op.hi, "float64"), **kwargs},
              base + ["parameters", "float64"])
    if op.int64:
        f.add("int64", op.name, {"input": RandInt((3, 5), -8, 9), **req}, base + ["int64"])
        for label, kwargs, _ in op.params:
            f.add(f"{label}_int64", op.name, {"input": RandInt((3, 5), -8, 9), **kwargs}, base + ["int64", "parameters"])
    if op.inplace:
        # In place on a tensor that does not require grad: the value written (programs cover autograd).
        plain = Uniform((3, 5), op.lo, op.hi, requires_grad=False)
        f.add("inplace_false", op.name, {"input": Uniform((3, 5), op.lo, op.hi), "inplace": False, **req},
              base + ["inplace_arg"])
        f.add("inplace_true", op.name, {"input": plain, "inplace": True, **req}, base + ["inplace"])
        f.add("inplace_truthy_int", op.name, {"input": plain, "inplace": 1, **req}, base + ["inplace"])
        f.add("inplace_none", op.name, {"input": Uniform((3, 5), op.lo, op.hi), "inplace": None, **req},
              base + ["inplace_arg"])
        for label, kwargs, _ in op.params[:1]:
            f.add(f"{label}_inplace_true", op.name, {"input": plain, "inplace": True, **kwargs},
                  base + ["inplace", "parameters"])
        if op.int64:
            f.add("int64_inplace_true", op.name, {"input": RandInt((3, 5), -8, 9), "inplace": True, **req},
                  base + ["inplace", "int64"])
        if op.inplace in INPLACE_NAMES:
            name = op.inplace
            f.add(f"{name}", name, {"input": plain, **req}, base + ["inplace", name])
            f.add(f"{name}_float64", name, {"input": Uniform((2, 7), op.lo, op.hi, "float64", requires_grad=False),
                                            **req}, base + ["inplace", name, "float64"])
            for label, kwargs, _ in op.params:
                f.add(f"{name}_{label}", name, {"input": plain, **kwargs}, base + ["inplace", name, "parameters"])
    return f


PRELU_CASES = [
    ("rank4_per_channel", (2, 3, 4, 5), (3,)),
    ("rank4_single_weight", (2, 3, 4, 5), (1,)),
    ("rank4_0d_weight", (2, 3, 4, 5), ()),
    ("rank3_per_channel", (2, 4, 5), (4,)),
    ("rank2_per_channel", (6, 3), (3,)),
    ("rank1_single_weight", (7,), (1,)),
    ("rank1_0d_weight", (7,), ()),
    ("scalar_0d_input", (), (1,)),
    ("scalar_0d_input_0d_weight", (), ()),
    ("one_channel", (2, 1, 3, 3), (1,)),
    ("rank5", (2, 3, 2, 2, 3), (3,)),
    ("empty_batch", (0, 3, 2), (3,)),
    ("large", (2, 8, 12, 12), (8,)),
]


def prelu_file():
    f = FixtureFile("activation/prelu")
    base = ["activation", "prelu"]
    for label, shape, wshape in PRELU_CASES:
        # A 0-d input is one element: negative, so that the weight's gradient (Σ x where x < 0) is not 0.
        f.add(label, "prelu", {"input": Uniform(shape, -3, 3 if shape else -0.5), "weight": Uniform(wshape, -0.5, 1.5)},
              base + ["broadcast"] + (["large"] if label == "large" else []))
    f.add("float64", "prelu", {"input": Uniform((2, 3, 4), -3, 3, "float64"),
                               "weight": Uniform((3,), -0.5, 1.5, "float64")}, base + ["float64"])
    f.add("negative_and_zero_weights", "prelu", {"input": Uniform((2, 4, 3), -3, 3),
                                                  "weight": given([-0.75, 0.0, 2.0, -0.0])}, base + ["weight_values"])
    special = given(SPECIAL_VALUES, shape=(7, 3))
    f.add("special_values", "prelu", {"input": special, "weight": given([0.25, -1.5, 0.0])},
          base + ["special_values", "nan", "inf"])
    f.add("special_weights", "prelu", {"input": Uniform((2, 3), -3, 3), "weight": given(["nan", "inf", "-inf"])},
          base + ["special_values"])
    return f


def glu_file():
    f = FixtureFile("activation/glu")
    base = ["activation", "glu"]
    for dim in (0, 1, 2, -1, -2, -3):
        f.add(f"rank3_dim{dim}".replace("-", "neg"), "glu", {"input": Uniform((2, 4, 6), -3, 3), "dim": dim},
              base + ["dim"] + (["negative_dim"] if dim < 0 else []))
    f.add("default_dim", "glu", {"input": Uniform((3, 4), -3, 3)}, base + ["default_dim"])
    f.add("vector", "glu", {"input": Uniform((8,), -3, 3)}, base)
    f.add("rank4_dim1", "glu", {"input": Uniform((2, 6, 3, 2), -3, 3), "dim": 1}, base + ["dim"])
    f.add("size2", "glu", {"input": Uniform((3, 2), -3, 3)}, base + ["size_2"])
    f.add("empty", "glu", {"input": Uniform((0, 4), -3, 3)}, base + ["empty"])
    f.add("float64", "glu", {"input": Uniform((3, 6), -3, 3, "float64"), "dim": 1}, base + ["float64"])
    ordinary = [0.25 * k - 1.9 for k in range(6)]
    f.add("special_values", "glu", {"input": given([SPECIAL_VALUES[:10] + ordinary, SPECIAL_VALUES[10:20] + ordinary[::-1]]), "dim": 0},
          base + ["special_values", "nan", "inf"])
    f.add("large", "glu", {"input": Uniform((2, 16, 12, 12), -5, 5), "dim": 1}, base + ["large"])
    return f


def check_version(p, name):
    """Also compare `_version` (an nnconf extension of `attrs`)."""
    step = p.check_attrs(name)
    step["attrs"]["_version"] = p.env[name]._version


def inplace_forms(op):
    """(label, call, args) of each in-place form of op: `inplace=True`, and F's `_` name."""
    forms = [("inplace_true", op.name, {"inplace": True})]
    if op.inplace in INPLACE_NAMES:
        forms.append((op.inplace.rstrip("_") + "_underscore", op.inplace, {}))
    return forms


def inplace_file():
    f = FixtureFile("activation/inplace")
    for op in (o for o in OPS if o.inplace):
        req = required(op)
        for label, call, extra in inplace_forms(op):
            tags = ["activation", "inplace", op.name, call]
            # On a non-leaf: the value, history and version, and gradients through it.
            with f.program(f"{op.name}_{label}_nonleaf_backward", tags + ["non_leaf", "attrs"]) as p:
                p.tensor("x", Uniform((2, 3, 4), op.lo, op.hi), requires_grad=True)
                p.call("mul", "y", input=ref("x"), other=1.5)
                p.call(call, "z", input=ref("y"), **extra, **req)
                check_version(p, "y")
                p.check_value("y")
                p.call("sum", "s", input=ref("z"))
                p.backward("s")
                p.check_grad("x")
            # Writing the result again: fatal when the node saved the result, harmless when it saved
            # a copy of its input.
            saves_result = op.name in ("leaky_relu", "elu", "selu", "celu", "rrelu")
            with f.program(f"{op.name}_{label}_result_modified_then_backward",
                           tags + ["version_counter"] + (["error"] if saves_result else [])) as p:
                p.tensor("x", Uniform((2, 3), op.lo, op.hi), requires_grad=True)
                p.call("mul", "y", input=ref("x"), other=1.5)
                p.call(call, input=ref("y"), **extra, **req)
                p.call("mul_", input=ref("y"), other=2.0)
                check_version(p, "y")
                p.call("sum", "s", input=ref("y"))
                p.backward("s", error=saves_result)
                p.check_grad("x")
            with f.program(f"{op.name}_{label}_on_leaf_requiring_grad", tags + ["leaf", "error"]) as p:
                p.tensor("x", Uniform((2, 3), op.lo, op.hi), requires_grad=True)
                p.call(call, input=ref("x"), error=True, **extra, **req)
                p.check_value("x")
                check_version(p, "x")
            with f.program(f"{op.name}_{label}_on_leaf_inside_no_grad", tags + ["leaf", "no_grad"]) as p:
                p.tensor("x", Uniform((2, 3), op.lo, op.hi), requires_grad=True)
                with p.no_grad():
                    p.call(call, input=ref("x"), **extra, **req)
                p.check_value("x")
                check_version(p, "x")
    negative = [("leaky_relu_", {"negative_slope": -0.1}), ("leaky_relu", {"negative_slope": -0.1, "inplace": True}),
                ("elu_", {"alpha": -0.5}), ("celu_", {"alpha": -0.5}), ("celu", {"alpha": -0.5, "inplace": True}),
                ("rrelu_", {"lower": -0.3, "upper": -0.1})]
    for call, args in negative:
        name = call + ("_inplace_true" if args.get("inplace") else "")
        with f.program(f"{name}_negative_slope_then_backward",
                       ["activation", "inplace", call, "negative_slope", "error"]) as p:
            p.tensor("x", Uniform((2, 3), -2, 2), requires_grad=True)
            p.call("mul", "y", input=ref("x"), other=1.0)
            p.call(call, input=ref("y"), **args)
            p.check_value("y")
            p.call("sum", "s", input=ref("y"))
            p.backward("s", error=True)
    # Out of place, the node keeps its input (tanhshrink only tanh(x)): writing the input breaks it.
    for op in OPS + [Op("prelu"), Op("glu")]:
        keeps_input = op.name != "tanhshrink"
        with f.program(f"{op.name}_input_modified_then_backward",
                       ["activation", "version_counter", op.name] + (["error"] if keeps_input else [])) as p:
            p.tensor("x", Uniform((2, 4), -2, 2), requires_grad=True)
            p.call("mul", "a", input=ref("x"), other=1.0)
            extra = {"weight": Uniform((4,), 0, 1)} if op.name == "prelu" else {}
            p.call(op.name, "y", input=ref("a"), **required(op), **extra)
            p.check_attrs("y")
            p.call("add_", input=ref("a"), other=1.0)
            p.call("sum", "s", input=ref("y"))
            p.backward("s", error=keeps_input)
            p.check_grad("x")
    # A 1-d input takes the weight as it is (a higher rank saves a reshaped view of it, which
    # PyTorch's message then names as the output of AsStrided).
    with f.program("prelu_weight_modified_under_no_grad_then_backward",
                   ["activation", "version_counter", "prelu", "no_grad", "error"]) as p:
        p.tensor("x", Uniform((5,), -2, 2), requires_grad=True)
        p.tensor("w", Uniform((1,), 0, 1), requires_grad=True)
        p.call("prelu", "y", input=ref("x"), weight=ref("w"))
        with p.no_grad():
            p.call("mul_", input=ref("w"), other=2.0)
        p.call("sum", "s", input=ref("y"))
        p.backward("s", error=True)
    for op in ("tanhshrink", "softsign", "gelu", "glu"):
        with f.program(f"{op}_backward_twice", ["activation", "backward", op, "error"]) as p:
            p.tensor("x", Uniform((2, 4), -2, 2), requires_grad=True)
            p.call(op, "y", input=ref("x"))
            p.call("sum", "s", input=ref("y"))
            p.backward("s")
            p.backward("s", error=True)
            p.check_grad("x")
    return f


def error_cases():
    """(label, call, args) that torch rejects."""
    u, x = Uniform, Uniform((2, 4))
    ints, bools = RandInt((2, 4), -3, 4), given([[True, False], [False, True]], "bool")
    cases = []
    for op in OPS:
        req = required(op)
        if op.int64 is None:
            cases.append((f"{op.name}_int64", op.name, {"input": ints, **req}))
        cases.append((f"{op.name}_bool", op.name, {"input": bools, **req}))
    cases += [
        ("glu_int64", "glu", {"input": ints}),
        ("prelu_int64", "prelu", {"input": ints, "weight": RandInt((4,), 0, 3)}),
        ("hardtanh_min_above_max", "hardtanh", {"input": x, "min_val": 1.0, "max_val": -1.0}),
        ("hardtanh_inplace_min_above_max", "hardtanh", {"input": u((2, 4), requires_grad=False),
                                                        "min_val": 2, "max_val": 1, "inplace": True}),
        ("hardtanh_int64_bound_overflows", "hardtanh", {"input": ints, "min_val": -1e30}),
        ("threshold_int64_overflows", "threshold", {"input": ints, "threshold": 1e30, "value": 0.0}),
        ("celu_alpha_zero", "celu", {"input": x, "alpha": 0.0}),
        ("celu_int64_alpha_zero", "celu", {"input": ints, "alpha": 0}),
        ("celu__alpha_zero", "celu_", {"input": u((2, 4), requires_grad=False), "alpha": 0.0}),
        ("gelu_invalid_approximate", "gelu", {"input": x, "approximate": "sigmoid"}),
        ("gelu_int64_invalid_approximate", "gelu", {"input": ints, "approximate": "fast"}),
        ("softshrink_negative_lambd", "softshrink", {"input": x, "lambd": -0.5}),
        ("softshrink_float64_negative_lambd", "softshrink", {"input": u((2, 4), dtype="float64"), "lambd": -0.123456789}),
        ("softshrink_lambd_above_float32_max", "softshrink", {"input": x, "lambd": 1e39}),
        ("softshrink_int64_negative_lambd", "softshrink", {"input": ints, "lambd": -1}),
        ("rrelu_lower_above_upper", "rrelu", {"input": x, "lower": 0.5, "upper": 0.1}),
        ("rrelu__lower_above_upper", "rrelu_", {"input": u((2, 4), requires_grad=False), "lower": 0.5, "upper": 0.1}),
        ("glu_0d", "glu", {"input": u(())}),
        ("glu_odd_last_dim", "glu", {"input": u((2, 3))}),
        ("glu_odd_dim0", "glu", {"input": u((3, 4)), "dim": 0}),
        ("glu_odd_negative_dim", "glu", {"input": u((3, 4, 2)), "dim": -3}),
        ("glu_dim_out_of_range", "glu", {"input": u((2, 4)), "dim": 2}),
        ("glu_negative_dim_out_of_range", "glu", {"input": u((2, 4)), "dim": -3}),
        ("prelu_weight_count_mismatch", "prelu", {"input": u((2, 3, 4)), "weight": u((2,))}),
        ("prelu_weight_count_mismatch_rank1", "prelu", {"input": u((3,)), "weight": u((3,))}),
        ("prelu_empty_weight", "prelu", {"input": u((2, 3)), "weight": u((0,))}),
        ("prelu_weight_2d", "prelu", {"input": u((2, 3, 4)), "weight": u((3, 1))}),
        ("prelu_single_weight_2d", "prelu", {"input": u((2, 3)), "weight": u((1, 1))}),
        ("prelu_0d_input_several_weights", "prelu", {"input": u(()), "weight": u((3,))}),
        ("prelu_dtype_mismatch", "prelu", {"input": u((2, 3)), "weight": u((3,), dtype="float64")}),
        ("prelu_int64_weight", "prelu", {"input": u((2, 3)), "weight": RandInt((3,), 0, 3)}),
        ("prelu_int64_mismatch", "prelu", {"input": RandInt((2, 3), 0, 3), "weight": RandInt((2,), 0, 3)}),
        # Argument types: F's Python wrappers pass positionally (messages give the position and,
        # with inplace=True, name the `_` function); builtins take keywords.
        ("elu_alpha_str", "elu", {"input": x, "alpha": "one"}),
        ("elu_inplace_alpha_str", "elu", {"input": u((2, 4), requires_grad=False), "alpha": "one", "inplace": True}),
        ("elu__alpha_str", "elu_", {"input": u((2, 4), requires_grad=False), "alpha": "one"}),
        ("leaky_relu_slope_none", "leaky_relu", {"input": x, "negative_slope": None}),
        ("leaky_relu_slope_list", "leaky_relu", {"input": x, "negative_slope": [0.1]}),
        ("celu_alpha_1d_tensor", "celu", {"input": x, "alpha": u((1,))}),
        ("hardtanh__min_val_str", "hardtanh_", {"input": u((2, 4), requires_grad=False), "min_val": "low"}),
        ("threshold_value_str", "threshold", {"input": x, "threshold": 0.5, "value": "zero"}),
        ("threshold_inplace_threshold_none", "threshold", {"input": u((2, 4), requires_grad=False),
                                                            "threshold": None, "value": 0.0, "inplace": True}),
        ("softplus_beta_str", "softplus", {"input": x, "beta": "two"}),
        ("softplus_threshold_none", "softplus", {"input": x, "threshold": None}),
        ("softshrink_lambd_list", "softshrink", {"input": x, "lambd": [0.5]}),
        ("hardshrink_lambd_str", "hardshrink", {"input": x, "lambd": "half"}),
        ("gelu_approximate_int", "gelu", {"input": x, "approximate": 1}),
        ("gelu_approximate_none", "gelu", {"input": x, "approximate": None}),
        ("glu_dim_float", "glu", {"input": u((2, 4)), "dim": 1.0}),
        ("glu_dim_bool", "glu", {"input": u((2, 4)), "dim": True}),
        ("rrelu_training_int", "rrelu", {"input": x, "training": 1}),
        ("rrelu__lower_str", "rrelu_", {"input": u((2, 4), requires_grad=False), "lower": "a"}),
        ("relu6_input_list", "relu6", {"input": [1.0, -2.0]}),
        ("relu6_inplace_input_list", "relu6", {"input": [1.0, -2.0], "inplace": True}),
        ("selu_input_float", "selu", {"input": 2.5}),
        ("gelu_input_list", "gelu", {"input": [1.0, 2.0]}),
        ("elu__input_list", "elu_", {"input": [1.0, 2.0]}),
        ("logsigmoid_input_list", "logsigmoid", {"input": [1.0, 2.0]}),
        ("softsign_input_float", "softsign", {"input": 2.0}),
        ("tanhshrink_input_list", "tanhshrink", {"input": [2.0]}),
        ("glu_input_list", "glu", {"input": [1.0, 2.0]}),
        ("prelu_weight_float", "prelu", {"input": x, "weight": 0.25}),
        ("inplace_ambiguous_tensor", "elu", {"input": u((2, 4), requires_grad=False),
                                             "inplace": RandInt((2,), 1, 2)}),
        # Missing arguments: Python's message for a wrapper, the C++ parser's (sic) for a builtin.
        ("threshold_missing_value", "threshold", {"input": x, "threshold": 0.5}),
        ("threshold_missing_both", "threshold", {"input": x}),
        ("threshold__missing_both", "threshold_", {"input": u((2, 4), requires_grad=False)}),
        ("threshold__missing_value", "threshold_", {"input": u((2, 4), requires_grad=False), "threshold": 0.5}),
        ("prelu_missing_weight", "prelu", {"input": x}),
        ("prelu_missing_both", "prelu", {}),
        ("elu_missing_input", "elu", {}),
        ("gelu_missing_input", "gelu", {}),
        ("elu_unexpected_keyword", "elu", {"input": x, "beta": 1.0}),
        ("gelu_unexpected_keyword", "gelu", {"input": x, "inplace": True}),
    ]
    # In place on a leaf that requires grad is refused before the kernel's own checks.
    leaf = Uniform((2, 4), requires_grad=True)
    for op in (o for o in OPS if o.inplace):
        cases.append((f"{op.name}_inplace_on_leaf", op.name, {"input": leaf, "inplace": True, **required(op)}))
    for name in INPLACE_NAMES:
        cases.append((f"{name}_on_leaf", name, {"input": leaf, **required(BY_NAME[name.rstrip('_')])}))
    cases.append(("celu__on_leaf_alpha_zero", "celu_", {"input": leaf, "alpha": 0.0}))
    cases.append(("rrelu__on_leaf_lower_above_upper", "rrelu_", {"input": leaf, "lower": 0.5, "upper": 0.1}))
    return cases


def errors_file():
    f = FixtureFile("activation/errors")
    for label, call, args in error_cases():
        f.add(label, call, args, ["activation", call.rstrip("_"), "error"], error=True)
    return f


def build():
    return [op_file(op) for op in OPS] + [prelu_file(), glu_file(), inplace_file(), errors_file()]
