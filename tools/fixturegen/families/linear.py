"""linear / bilinear: `Fixtures/linear/linear.json`, `bilinear.json` and `errors.json`."""

from ..cases import FixtureFile
from ..tensors import RandInt, Uniform


def linear_cases():
    """(label, args, tags): input ranks 1-4, weight 2-D or 1-D, bias 1-D / 0-D / none."""
    for rank, shape in ((1, (5,)), (2, (4, 5)), (3, (2, 3, 5)), (4, (2, 2, 3, 5))):
        for bias in ("bias", "no_bias"):
            args = {"input": Uniform(shape), "weight": Uniform((6, 5))}
            if bias == "bias":
                args["bias"] = Uniform((6,))
            yield f"input{rank}d_{bias}", args, [f"rank{rank}", bias]
    yield "weight1d", {"input": Uniform((4, 5)), "weight": Uniform((5,))}, ["weight1d"]
    yield "vector_dot", {"input": Uniform((5,)), "weight": Uniform((5,))}, ["weight1d"]
    yield "bias0d", {"input": Uniform((4, 5)), "weight": Uniform((6, 5)), "bias": Uniform(())}, ["bias0d"]
    yield "bias0d_rank3", {"input": Uniform((2, 4, 5)), "weight": Uniform((6, 5)), "bias": Uniform(())}, ["bias0d"]
    yield "float64", {"input": Uniform((4, 5), dtype="float64"), "weight": Uniform((6, 5), dtype="float64"),
                      "bias": Uniform((6,), dtype="float64")}, ["float64"]
    yield "one_feature", {"input": Uniform((3, 1)), "weight": Uniform((2, 1)), "bias": Uniform((2,))}, ["size_1"]
    yield "empty_batch", {"input": Uniform((0, 5)), "weight": Uniform((6, 5)), "bias": Uniform((6,))}, ["empty"]
    yield "large", {"input": Uniform((64, 128)), "weight": Uniform((96, 128), -0.1, 0.1),
                    "bias": Uniform((96,))}, ["large"]


def bilinear_cases():
    yield "batch2d", {"input1": Uniform((4, 3)), "input2": Uniform((4, 2)), "weight": Uniform((5, 3, 2)),
                      "bias": Uniform((5,))}, ["bias"]
    yield "batch2d_no_bias", {"input1": Uniform((4, 3)), "input2": Uniform((4, 2)),
                              "weight": Uniform((5, 3, 2))}, ["no_bias"]
    yield "batch3d", {"input1": Uniform((2, 3, 3)), "input2": Uniform((2, 3, 4)), "weight": Uniform((2, 3, 4)),
                      "bias": Uniform((2,))}, ["rank3"]
    yield "float64", {"input1": Uniform((3, 2), dtype="float64"), "input2": Uniform((3, 2), dtype="float64"),
                      "weight": Uniform((4, 2, 2), dtype="float64")}, ["float64"]


def error_cases():
    yield "linear", "in_features_mismatch", {"input": Uniform((2, 3)), "weight": Uniform((4, 5))}
    yield "linear", "in_features_mismatch_1d_input", {"input": Uniform((2,)), "weight": Uniform((4, 3))}
    yield "linear", "weight_3d", {"input": Uniform((2, 3)), "weight": Uniform((4, 3, 1))}
    yield "linear", "input_0d", {"input": Uniform(()), "weight": Uniform((4, 3))}
    yield "linear", "bias_size", {"input": Uniform((2, 3)), "weight": Uniform((4, 3)), "bias": Uniform((5,))}
    yield "linear", "bias_size_rank3", {"input": Uniform((2, 5, 3)), "weight": Uniform((4, 3)), "bias": Uniform((5,))}
    yield "linear", "dtype_mismatch", {"input": Uniform((2, 3)), "weight": Uniform((4, 3), dtype="float64")}
    yield "bilinear", "rank_mismatch", {"input1": Uniform((2, 3)), "input2": Uniform((2, 4, 1)),
                                        "weight": Uniform((5, 3, 4))}
    yield "bilinear", "batch_mismatch", {"input1": Uniform((2, 3)), "input2": Uniform((3, 4)),
                                         "weight": Uniform((5, 3, 4))}
    yield "bilinear", "input2_size", {"input1": Uniform((2, 3)), "input2": Uniform((2, 4)),
                                      "weight": Uniform((5, 3, 5))}
    yield "bilinear", "bias_size", {"input1": Uniform((2, 3)), "input2": Uniform((2, 4)),
                                    "weight": Uniform((5, 3, 4)), "bias": Uniform((4,))}
    yield "bilinear", "int64", {"input1": RandInt((2, 3), 0, 3), "input2": Uniform((2, 4)),
                                "weight": Uniform((5, 3, 4))}


def build():
    files = []
    for op, cases in (("linear", linear_cases()), ("bilinear", bilinear_cases())):
        f = FixtureFile(f"linear/{op}")
        for label, args, tags in cases:
            f.add(label, op, args, ["linear", op] + tags)
        files.append(f)
    errors = FixtureFile("linear/errors")
    for op, label, args in error_cases():
        errors.add(f"{op}_{label}", op, args, ["linear", op, "error"], error=True)
    return files + [errors]
