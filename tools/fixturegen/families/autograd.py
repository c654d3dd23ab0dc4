"""Autograd and in-place rules as programs: `Fixtures/autograd/inplace.json`.

Each program is run step by step in torch while it is written, so every `check` holds what
torch observed at that point and every expected error is the one torch raised.
"""

from ..cases import FixtureFile, ref
from ..tensors import Uniform

X = Uniform((2, 3))


def leaf_inplace_errors(f):
    """In-place ops on a leaf that requires grad are refused; the leaf is unchanged."""
    for op, args in (("add_", {"other": 1.0}), ("mul_", {"other": 2.0}), ("relu_", {}),
                     ("sigmoid_", {}), ("exp_", {})):
        with f.program(f"{op.rstrip('_')}_inplace_on_leaf_requiring_grad",
                       ["autograd", "inplace", "leaf", "error", op]) as p:
            p.tensor("x", X, requires_grad=True)
            p.call(op, input=ref("x"), error=True, **args)
            p.check_value("x")
            p.check_attrs("x")


def saved_output_modified(f):
    """An op that saved its output for backward, whose output is then modified in place."""
    for op, inplace, args in (("sigmoid", "mul_", {"other": 2.0}), ("exp", "add_", {"other": 1.0}),
                              ("tanh", "mul_", {"other": 0.5}), ("sigmoid", "relu_", {}),
                              ("softmax", "mul_", {"other": 3.0})):
        extra = {"dim": 1} if op == "softmax" else {}
        with f.program(f"{op}_output_modified_by_{inplace.rstrip('_')}_inplace_then_backward",
                       ["autograd", "inplace", "version_counter", "error", op, inplace]) as p:
            p.tensor("x", X, requires_grad=True)
            p.call(op, "y", input=ref("x"), **extra)
            p.call(inplace, input=ref("y"), **args)
            p.check_attrs("y")
            p.call("sum", "s", input=ref("y"))
            p.backward("s", error=True)


def saved_input_modified(f):
    """`mul` saves both inputs; modifying one (a non-leaf) in place breaks backward (1 vs 0)."""
    with f.program("mul_saved_input_modified_then_backward",
                   ["autograd", "inplace", "version_counter", "error", "mul", "add_"]) as p:
        p.tensor("x", X, requires_grad=True)
        p.tensor("w", Uniform((2, 3)), requires_grad=True)
        p.call("mul", "a", input=ref("x"), other=2.0)
        p.call("mul", "z", input=ref("a"), other=ref("w"))
        p.call("add_", input=ref("a"), other=1.0)
        p.call("sum", "s", input=ref("z"))
        p.backward("s", error=True)
    with f.program("mul_saved_input_modified_twice_then_backward",
                   ["autograd", "inplace", "version_counter", "error", "mul", "mul_"]) as p:
        p.tensor("x", X, requires_grad=True)
        p.call("tanh", "a", input=ref("x"))
        p.call("mul", "z", input=ref("a"), other=ref("a"))
        p.call("mul_", input=ref("a"), other=2.0)
        p.call("mul_", input=ref("a"), other=2.0)
        p.call("mean", "s", input=ref("z"))
        p.backward("s", error=True)


def inplace_on_unsaved_nonleaf(f):
    """In-place on a non-leaf nobody saved is fine: grads flow, and grad_fn becomes the
    in-place op's."""
    for op, args in (("add_", {"other": 1.0}), ("mul_", {"other": 3.0}), ("relu_", {})):
        with f.program(f"{op.rstrip('_')}_inplace_on_unsaved_nonleaf_then_backward",
                       ["autograd", "inplace", "non_leaf", "attrs", op]) as p:
            p.tensor("x", Uniform((2, 3), -2, 2), requires_grad=True)
            p.call("mul", "y", input=ref("x"), other=2.0)
            p.check_attrs("y")
            p.call(op, input=ref("y"), **args)
            p.check_attrs("y")
            p.check_value("y")
            p.call("sum", "s", input=ref("y"))
            p.backward("s")
            p.check_grad("x")
            p.check_attrs("x")
    with f.program("relu_on_conv2d_output_then_backward",
                   ["autograd", "inplace", "non_leaf", "conv2d", "relu_", "softmax"]) as p:
        p.tensor("x", Uniform((1, 2, 5, 5)), requires_grad=True)
        p.tensor("w", Uniform((3, 2, 3, 3)), requires_grad=True)
        p.tensor("b", Uniform((3,)), requires_grad=True)
        p.call("conv2d", "y", input=ref("x"), weight=ref("w"), bias=ref("b"), padding=1)
        p.call("relu_", input=ref("y"))
        p.check_attrs("y")
        p.call("softmax", "p", input=ref("y"), dim=1)
        p.call("mean", "s", input=ref("p"))
        p.backward("s")
        p.check_grad("x")
        p.check_grad("w")
        p.check_grad("b")
    with f.program("inplace_add_of_grad_tensor_into_plain_tensor",
                   ["autograd", "inplace", "attrs", "add_"]) as p:
        p.tensor("x", X, requires_grad=True)
        p.tensor("a", Uniform((2, 3)))
        p.check_attrs("a")
        p.call("add_", input=ref("a"), other=ref("x"))
        p.check_attrs("a")
        p.call("sum", "s", input=ref("a"))
        p.backward("s")
        p.check_grad("x")


def no_grad_programs(f):
    with f.program("leaf_inplace_inside_no_grad", ["autograd", "inplace", "leaf", "no_grad"]) as p:
        p.tensor("x", X, requires_grad=True)
        with p.no_grad():
            p.call("mul_", input=ref("x"), other=2.0)
            p.call("add_", input=ref("x"), other=1.0)
        p.check_value("x")
        p.check_attrs("x")
        p.call("exp", "y", input=ref("x"))
        p.call("sum", "s", input=ref("y"))
        p.backward("s")
        p.check_grad("x")
    with f.program("call_inside_no_grad_records_nothing", ["autograd", "no_grad", "attrs"]) as p:
        p.tensor("x", X, requires_grad=True)
        with p.no_grad():
            p.call("sigmoid", "y", input=ref("x"))
        p.check_attrs("y")
        p.check_value("y")


def backward_programs(f):
    with f.program("backward_non_scalar_without_gradient", ["autograd", "backward", "error"]) as p:
        p.tensor("x", X, requires_grad=True)
        p.call("mul", "y", input=ref("x"), other=2.0)
        p.backward("y", error=True)
    with f.program("backward_with_explicit_gradient", ["autograd", "backward", "gradient"]) as p:
        p.tensor("x", X, requires_grad=True)
        p.call("tanh", "y", input=ref("x"))
        p.backward("y", gradient=Uniform((2, 3)))
        p.check_grad("x")
    with f.program("backward_scalar_mean", ["autograd", "backward", "mean"]) as p:
        p.tensor("x", Uniform((3, 4)), requires_grad=True)
        p.call("mean", "s", input=ref("x"))
        p.backward("s")
        p.check_grad("x")
    with f.program("grad_accumulates_over_two_graphs",
                   ["autograd", "backward", "accumulation"]) as p:
        p.tensor("x", X, requires_grad=True)
        p.call("mul", "y1", input=ref("x"), other=3.0)
        p.call("sum", "s1", input=ref("y1"))
        p.backward("s1")
        p.check_grad("x")
        p.call("mul", "y2", input=ref("x"), other=ref("x"))
        p.call("sum", "s2", input=ref("y2"))
        p.backward("s2")
        p.check_grad("x")
    with f.program("tensor_without_requires_grad_has_no_grad",
                   ["autograd", "backward", "grad_none", "attrs"]) as p:
        p.tensor("x", X, requires_grad=True)
        p.tensor("w", Uniform((2, 3)))
        p.call("mul", "y", input=ref("x"), other=ref("w"))
        p.call("sum", "s", input=ref("y"))
        p.backward("s")
        p.check_grad("x")
        p.check_grad("w")
        p.check_attrs("w")
        p.check_attrs("y")
    with f.program("leaf_grad_none_before_backward", ["autograd", "grad_none", "attrs"]) as p:
        p.tensor("x", X, requires_grad=True)
        p.check_grad("x")
        p.check_attrs("x")
        p.call("sigmoid", "y", input=ref("x"))
        p.check_attrs("y")
    with f.program("backward_twice_through_same_graph", ["autograd", "backward", "error"]) as p:
        p.tensor("x", X, requires_grad=True)
        p.call("exp", "y", input=ref("x"))
        p.call("sum", "s", input=ref("y"))
        p.backward("s")
        p.backward("s", error=True)
        p.check_grad("x")
    with f.program("add_with_alpha_and_broadcast_grads",
                   ["autograd", "backward", "broadcast"]) as p:
        p.tensor("x", Uniform((3, 4)), requires_grad=True)
        p.tensor("b", Uniform((4,)), requires_grad=True)
        p.call("add", "y", input=ref("x"), other=ref("b"), alpha=-2.0)
        p.call("relu", "r", input=ref("y"))
        p.call("sum", "s", input=ref("r"))
        p.backward("s")
        p.check_grad("x")
        p.check_grad("b")


def build():
    f = FixtureFile("autograd/inplace")
    for family in (leaf_inplace_errors, saved_output_modified, saved_input_modified,
                   inplace_on_unsaved_nonleaf, no_grad_programs, backward_programs):
        family(f)
    return [f]
