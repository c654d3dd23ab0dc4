"""Plain-Python checks of written fixture files against the nnconf/1 rules we rely on."""

import json
import re

from .tensors import DTYPES, decode, numel

FLOAT_STRINGS = ("nan", "inf", "-inf")


def _tensors(value, where):
    """Every tensor (any object with a `shape` key) inside `value`, with where it sits."""
    if isinstance(value, dict):
        if "shape" in value:
            yield where, value
            return
        for key, item in value.items():
            yield from _tensors(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _tensors(item, f"{where}[{i}]")


def check_tensor(doc, where):
    problems = []
    shape, dtype = doc.get("shape"), doc.get("dtype")
    if not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape):
        return [f"{where}: bad shape {shape!r}"]
    if dtype not in DTYPES:
        return [f"{where}: bad dtype {dtype!r}"]
    sources = [key for key in ("data", "b64", "init") if key in doc]
    if len(sources) != 1:
        return [f"{where}: needs exactly one of data/b64/init, has {sources}"]
    if "data" in doc:
        data = doc["data"]
        if len(data) != numel(shape):
            problems.append(f"{where}: {len(data)} values for shape {shape}")
        for v in data:
            ok = (isinstance(v, bool) if dtype == "bool" else
                  isinstance(v, int) and not isinstance(v, bool) if dtype == "int64" else
                  isinstance(v, (int, float)) and not isinstance(v, bool) or v in FLOAT_STRINGS)
            if not ok:
                problems.append(f"{where}: value {v!r} is not a {dtype}")
                break
    try:
        values = decode(doc)  # b64: byte count must match; init: known generator
        if values.size != numel(shape):
            problems.append(f"{where}: {values.size} elements for shape {shape}")
    except (ValueError, KeyError, TypeError) as exc:
        problems.append(f"{where}: cannot decode: {exc}")
    return problems


def _check_expect(expect, where):
    problems = []
    error = expect.get("error")
    if error is not None:
        if set(error) != {"type", "match", "message"}:
            problems.append(f"{where}: error needs type, match, message")
        elif not re.search(error["match"], error["message"]):
            problems.append(f"{where}: error match not found in its message")
    warning = expect.get("warning")
    if warning is not None:
        re.compile(warning["match"])
    return problems


def _check_single(case, where):
    problems = _check_expect(case.get("expect", {}), where)
    args = case.get("args", {})
    backward = case.get("backward")
    if backward is not None:
        if "grad_output" not in backward:
            problems.append(f"{where}: backward without grad_output")
        for key in backward.get("grads", {}):
            arg = args.get(key)
            if not (isinstance(arg, dict) and arg.get("requires_grad") is True):
                problems.append(f"{where}: grads.{key} but args.{key} does not require grad")
    return problems


def _check_program(steps, where, names):
    problems = []
    for i, step in enumerate(steps):
        at = f"{where}.program[{i}]"
        problems += _check_expect(step.get("expect", {}), at)
        for ref in re.findall(r'\{"ref": "([^"]+)"\}', json.dumps(step.get("args", {}))):
            if ref not in names:
                problems.append(f"{at}: ref {ref!r} before it is defined")
        for key in ("backward", "check"):
            if key in step and step[key].split(".")[0] not in names:  # dotted: a module's tensor
                problems.append(f"{at}: {key} of undefined {step[key]!r}")
        if "no_grad" in step:
            problems += _check_program(step["no_grad"], f"{at}.no_grad", names)
        if "let" in step and "error" not in step.get("expect", {}):
            names.add(step["let"])
    return problems


def verify_file(path):
    """(number of cases, problems) for one fixture file."""
    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    problems = []
    if doc.get("format") != "nnconf/1":
        problems.append("format is not nnconf/1")
    if set(doc.get("generator", {})) != {"name", "version"}:
        problems.append("generator needs name and version")
    names = set()
    cases = doc.get("cases", [])
    for i, case in enumerate(cases):
        name = case.get("name")
        where = f"{path}:{name or i}"
        if not isinstance(name, str) or not name:
            problems.append(f"{where}: case without a name")
        elif name in names:
            problems.append(f"{where}: duplicate name")
        names.add(name)
        if ("call" in case) == ("program" in case):
            problems.append(f"{where}: needs exactly one of call/program")
        for at, tensor in _tensors(case, where):
            problems += check_tensor(tensor, at)
        if "call" in case:
            problems += _check_single(case, where)
        else:
            problems += _check_program(case["program"], where, set())
        tags = case.get("tags", [])
        if not all(isinstance(t, str) for t in tags) or len(set(tags)) != len(tags):
            problems.append(f"{where}: tags must be distinct strings")
    return len(cases), problems
