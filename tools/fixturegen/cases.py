"""Building nnconf/1 cases by running real PyTorch: single calls and programs."""

import collections
import contextlib
import json
import re
import warnings
import zlib

import torch
import torch.nn.functional as F

from .tensors import FLOAT_DTYPES, TORCH_TO_NAME, Given, RandInt, Uniform, make_input, value_json

FORMAT = "nnconf/1"
GENERATOR = {"name": "torch", "version": torch.__version__.split("+")[0]}
SPECS = (Uniform, RandInt, Given)


class GenerationError(Exception):
    """PyTorch did not behave as the generator said it would (a bug in a family function)."""


def is_spec(value):
    return isinstance(value, SPECS)


def seed_for(*parts):
    """A stable seed for one input: CRC-32 of its path/case/argument, so cases are independent."""
    return zlib.crc32("/".join(parts).encode("utf-8"))


def resolve(call):
    """The callable for a `call` name: torch.nn.functional, then torch, then a Tensor method."""
    for namespace in (F, torch):
        fn = getattr(namespace, call, None)
        if callable(fn):
            return fn
    method = getattr(torch.Tensor, call)
    return lambda input, **kwargs: method(input, **kwargs)


def json_value(value):
    """A non-tensor argument as the Python keyword argument would be written (tuples -> arrays)."""
    if isinstance(value, torch.dtype):
        return TORCH_TO_NAME[value]
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    return value


# Warnings that are not part of an op's contract: C++ TORCH_WARN_ONCE performance hints fire
# only on the first call in a process, so recording them would depend on case order.
IGNORED_WARNINGS = (
    re.compile(r"^Using padding='same' with even kernel lengths and odd dilation may require"),
)
# Suffix C++ warnings carry, naming the build machine's source path.
TRIGGERED_SUFFIX = re.compile(r"\s*\(Triggered internally at [^)]*\)\s*$")


def _relevant(caught):
    return [w for w in caught if not any(p.search(str(w.message)) for p in IGNORED_WARNINGS)]


def capture(fn, *args, **kwargs):
    """Run fn; return (result, exception or None, relevant warnings raised)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            return fn(*args, **kwargs), None, _relevant(caught)
        except Exception as exc:  # noqa: BLE001 - every torch error is a possible fixture
            return None, exc, _relevant(caught)


def leading_part(message, enough=80, longest=200, cut=100):
    """A distinctive leading part of a message: whole sentences of its first line until
    `enough` characters; a first sentence longer than `longest` is cut near `cut` characters."""
    line = message.split("\n", 1)[0].rstrip()
    end = 0
    for sentence_end in [m.end() for m in re.finditer(r"\.(?=\s|$)", line)] + [len(line)]:
        end = sentence_end
        if end >= enough:
            break
    part = line[:end]
    if len(part) > longest:
        space = part.rfind(" ", 0, cut)
        part = part[:space if space > cut // 2 else cut]
    return part


def error_json(exc):
    message = str(exc)
    return {"type": type(exc).__name__, "match": re.escape(leading_part(message)),
            "message": message}


def warning_json(caught):
    """The first warning the op raised, without the C++ source-location suffix."""
    return {"match": re.escape(TRIGGERED_SUFFIX.sub("", str(caught[0].message)))}


def _expect_json(ident, result, exc, caught, error, warns):
    """`expect` for a step or call, checking that torch did what the generator declared."""
    if error != (exc is not None):
        raise GenerationError(f"{ident}: expected {'an error' if error else 'success'}, "
                              f"got {exc!r}") from exc
    if warns != bool(caught):
        raise GenerationError(f"{ident}: warns={warns} but torch warned "
                              f"{[str(w.message) for w in caught]}")
    expect = {}
    if exc is not None:
        expect["error"] = error_json(exc)
    if caught:
        expect["warning"] = warning_json(caught)
    return expect


def _output_json(result):
    if isinstance(result, (tuple, list)):
        return [None if r is None else value_json(r) for r in result]
    return value_json(result)


def _first(result):
    return result[0] if isinstance(result, (tuple, list)) else result


def _dedupe(tags):
    return list(dict.fromkeys(tags))


class FixtureFile:
    """One `Fixtures/<path>.json`: an ordered list of uniquely named cases."""

    def __init__(self, path):
        self.path = path  # relative to Fixtures/, without .json
        self.cases = []
        self._names = set()

    def _claim(self, name):
        if name in self._names:
            raise GenerationError(f"{self.path}: duplicate case name {name!r}")
        self._names.add(name)

    def _input(self, case, key, spec, requires_grad):
        return make_input(spec, seed_for(self.path, case, key), requires_grad)

    def add(self, name, call, args, tags, *, error=False, warns=False, backward=True):
        """Run `call(**args)` in torch and record it. Floating inputs of a forward case require
        grad (unless their spec says otherwise) and get a `backward` block; `error`/`warns`
        declare what torch must do, so a wrong assumption fails generation instead of writing
        a silently different fixture."""
        self._claim(name)
        ident = f"{self.path}/{name}"
        json_args, torch_args, grad_args = self._inputs(name, args, backward and not error)
        result, exc, caught = capture(resolve(call), **torch_args)
        expect = _expect_json(ident, result, exc, caught, error, warns)
        if exc is None:
            expect = {"output": _output_json(result), **expect}
        case = {"name": name, "call": call, "args": json_args, "expect": expect}
        if exc is None and grad_args:
            case["backward"] = self._backward(ident, name, _first(result), torch_args, grad_args)
        case["tags"] = _dedupe(tags)
        self.cases.append(case)

    def _inputs(self, name, args, wants_grad):
        """(json args, torch args, names of the inputs that require grad) of a single call."""
        json_args, torch_args, grad_args = {}, {}, []
        for key, value in args.items():
            if is_spec(value):
                requires_grad = value.requires_grad
                if requires_grad is None:
                    requires_grad = wants_grad and value.dtype in FLOAT_DTYPES
                json_args[key], torch_args[key] = self._input(name, key, value, requires_grad)
                if requires_grad:
                    grad_args.append(key)
            else:
                json_args[key], torch_args[key] = json_value(value), value
        return json_args, torch_args, grad_args

    def add_property(self, name, call, args, tags, expect, verify, *, warns=False):
        """A case of a random op, whose values torch cannot fix: torch runs the call (which must
        succeed, and warn as declared) and its backward, `verify(ident, inputs, output,
        grad_output, grads)` checks torch's result against the property the case states (raising
        GenerationError), and the case records `expect` (e.g. `{"dropout": {...}}`) instead of
        an output, and a `backward` with only `grad_output`."""
        self._claim(name)
        ident = f"{self.path}/{name}"
        json_args, torch_args, grad_args = self._inputs(name, args, True)
        inputs = {k: v.detach().clone() for k, v in torch_args.items() if isinstance(v, torch.Tensor)}
        result, exc, caught = capture(resolve(call), **torch_args)
        expect = {**expect, **_expect_json(ident, result, exc, caught, False, warns)}
        case = {"name": name, "call": call, "args": json_args, "expect": expect}
        grad_output, grads = None, {}
        if grad_args:
            spec = Uniform(tuple(result.shape), dtype=TORCH_TO_NAME[result.dtype])
            case["backward"] = {}
            case["backward"]["grad_output"], grad_output = self._input(name, "grad_output", spec, False)
            result.backward(grad_output)
            grads = {key: torch_args[key].grad for key in grad_args}
        verify(ident, inputs, result.detach(), grad_output, grads)
        case["tags"] = _dedupe(tags)
        self.cases.append(case)

    def _backward(self, ident, name, output, torch_args, grad_args):
        if not output.requires_grad:
            raise GenerationError(f"{ident}: output does not require grad")
        spec = Uniform(tuple(output.shape), dtype=TORCH_TO_NAME[output.dtype])
        grad_json, grad_output = self._input(name, "grad_output", spec, False)
        _, exc, caught = capture(output.backward, grad_output)
        if exc is not None or caught:
            raise GenerationError(f"{ident}: backward failed or warned: {exc!r} {caught}")
        grads = {}
        for key in grad_args:
            grad = torch_args[key].grad
            if grad is None:
                raise GenerationError(f"{ident}: {key} got no gradient")
            grads[key] = value_json(grad)
        return {"grad_output": grad_json, "grads": grads}

    @contextlib.contextmanager
    def program(self, name, tags):
        """`with f.program(name, tags) as p:` builds, runs and records a program case."""
        self._claim(name)
        program = Program(self, name)
        yield program
        self.cases.append({"name": name, "program": program.steps, "tags": _dedupe(tags)})

    def document(self):
        return {"format": FORMAT, "generator": GENERATOR, "cases": self.cases}


def mod(cls, *children, **args):
    """A module description for `Program.module`: class name, (name, mod) children, kwargs."""
    return (cls, args, list(children))


class Ref:
    """`{"ref": name}`: a named value of a program."""

    def __init__(self, name):
        self.name = name


def ref(name):
    return Ref(name)


class Program:
    """Runs program steps eagerly in torch and records them with what torch observed."""

    def __init__(self, fixture, name):
        self.fixture = fixture
        self.name = name
        self.steps = []
        self.env = {}
        self._open = [self.steps]  # innermost step list (no_grad nests)

    def _emit(self, step):
        self._open[-1].append(step)
        return step

    def _ident(self):
        return f"{self.fixture.path}/{self.name}#{sum(1 for _ in self._walk(self.steps))}"

    def _walk(self, steps):
        for step in steps:
            yield step
            yield from self._walk(step.get("no_grad", []))

    def _arg(self, key, value):
        if isinstance(value, Ref):
            return {"ref": value.name}, self.env[value.name]
        if is_spec(value):
            return self.fixture._input(self.name, f"{self._ident()}.{key}", value, False)
        return json_value(value), value

    def tensor(self, let, spec, requires_grad=False):
        doc, tensor = self.fixture._input(self.name, let, spec, requires_grad)
        self.env[let] = tensor
        return self._emit({"let": let, "tensor": doc})

    def call(self, op, let=None, *, error=False, warns=False, **args):
        ident = self._ident()
        step = {"let": let} if let else {}
        step["call"] = op
        step["args"] = {}
        torch_args = {}
        for key, value in args.items():
            step["args"][key], torch_args[key] = self._arg(key, value)
        result, exc, caught = capture(resolve(op), **torch_args)
        expect = _expect_json(ident, result, exc, caught, error, warns)
        if expect:
            step["expect"] = expect
        if let and exc is None:
            self.env[let] = result
        return self._emit(step)

    def backward(self, name, gradient=None, *, error=False):
        ident = self._ident()
        step = {"backward": name}
        grad = None
        if gradient is not None:
            step["gradient"], grad = self._arg("gradient", gradient)
        _, exc, caught = capture(self.env[name].backward, grad)
        expect = _expect_json(ident, None, exc, caught, error, False)
        if expect:
            step["expect"] = expect
        return self._emit(step)

    # Modules (torch.nn). A module description is `mod(cls, *children, **args)`; a module step
    # builds it in torch, fills its state_dict from SplitMix64 (so the fixture, not torch's RNG,
    # decides the weights) and records that state.

    def module(self, let, desc, *, error=False, state=True):
        ident = self._ident()
        step = {"let": let, **self._module_json(desc)}
        built, exc, caught = capture(self._build, desc)
        if exc is None and state:
            values = {}
            for key, tensor in built.state_dict().items():
                if tensor.dtype.is_floating_point:
                    low, high = (0.5, 1.5) if key.endswith("running_var") else (-0.5, 0.5)
                    spec = Uniform(tuple(tensor.shape), low, high, TORCH_TO_NAME[tensor.dtype])
                    values[key] = self.fixture._input(self.name, f"{let}.{key}", spec, False)
                else:
                    values[key] = (value_json(tensor), tensor.clone())
            built.load_state_dict({k: t for k, (_, t) in values.items()})
            step["state"] = {k: doc for k, (doc, _) in values.items()}
        expect = _expect_json(ident, None, exc, caught, error, False)
        if expect:
            step["expect"] = expect
        if exc is None:
            self.env[let] = built
        return self._emit(step)

    def _module_arg(self, key, value):
        """(json, torch) of a constructor argument; a list may hold tensors (ParameterList)."""
        if isinstance(value, list) and any(is_spec(v) for v in value):
            pairs = [self._arg(f"{key}[{i}]", v) for i, v in enumerate(value)]
            return [j for j, _ in pairs], [t for _, t in pairs]
        return self._arg(key, value)

    def _module_json(self, desc):
        cls, args, children = desc
        doc = {"module": cls, "args": {k: self._module_arg(k, v)[0] for k, v in args.items()}}
        if children:
            doc["children"] = [[n, self._module_json(c)] for n, c in children]
        return doc

    def _build(self, desc):
        cls, args, children = desc
        torch_args = {k: self._module_arg(k, v)[1] for k, v in args.items()}
        built = [(n, self._build(c)) for n, c in children]
        if cls == "ParameterDict":  # nnconf/1 spells its dict as parallel keys and values
            return torch.nn.ParameterDict(dict(zip(torch_args["keys"], torch_args["values"])))
        if cls in ("Sequential", "ModuleDict"):
            return getattr(torch.nn, cls)(collections.OrderedDict(built))
        if cls == "ModuleList":
            return torch.nn.ModuleList([m for _, m in built])
        return getattr(torch.nn, cls)(**torch_args)

    def forward(self, module, let=None, *, error=False, warns=False, **args):
        ident = self._ident()
        step = {"let": let} if let else {}
        step["forward"] = module
        step["args"] = {}
        torch_args = {}
        for key, value in args.items():
            step["args"][key], torch_args[key] = self._arg(key, value)
        result, exc, caught = capture(self._lookup(module), **torch_args)
        expect = _expect_json(ident, result, exc, caught, error, warns)
        if expect:
            step["expect"] = expect
        if let and exc is None:
            self.env[let] = result
        return self._emit(step)

    def train(self, module, mode=True):
        self._lookup(module).train(mode)
        return self._emit({"train" if mode else "eval": module})

    def zero_grad(self, module):
        self._lookup(module).zero_grad()
        return self._emit({"zero_grad": module})

    def requires_grad_(self, name, value=True, *, error=False):
        ident = self._ident()
        _, exc, caught = capture(self._lookup(name).requires_grad_, value)
        step = {"requires_grad_": name, "value": value}
        expect = _expect_json(ident, None, exc, caught, error, False)
        if expect:
            step["expect"] = expect
        return self._emit(step)

    def check_parameter_names(self, module):
        names = [n for n, _ in self._lookup(module).named_parameters()]
        return self._emit({"check": module, "parameter_names": names})

    def check_state(self, module, keys):
        state = self._lookup(module).state_dict()
        return self._emit({"check": module, "state": {k: value_json(state[k]) for k in keys}})

    def _lookup(self, name):
        """A value, module, or a module's parameter/buffer by dotted name (`net.0.weight`)."""
        if name in self.env:
            return self.env[name]
        root, _, rest = name.partition(".")
        module = self.env[root]
        if rest in dict(module.named_modules()):
            return module.get_submodule(rest)
        return module.get_parameter(rest) if rest in dict(module.named_parameters()) else module.get_buffer(rest)

    def check_value(self, name):
        return self._emit({"check": name, "value": value_json(self._lookup(name))})

    def check_grad(self, name):
        tensor = self._lookup(name)
        if not tensor.is_leaf:
            raise GenerationError(f"{self._ident()}: check grad of non-leaf {name}")
        grad = tensor.grad
        return self._emit({"check": name, "grad": None if grad is None else value_json(grad)})

    def check_attrs(self, name, *, version=False):
        """requires_grad, is_leaf, grad_fn, and with `version` the `_version` counter."""
        tensor = self.env[name]
        grad_fn = None if tensor.grad_fn is None else type(tensor.grad_fn).__name__
        attrs = {"requires_grad": tensor.requires_grad, "is_leaf": tensor.is_leaf, "grad_fn": grad_fn}
        if version:
            attrs["_version"] = tensor._version
        return self._emit({"check": name, "attrs": attrs})

    @contextlib.contextmanager
    def no_grad(self):
        inner = []
        self._emit({"no_grad": inner})
        self._open.append(inner)
        try:
            with torch.no_grad():
                yield self
        finally:
            self._open.pop()


def dumps(value, indent=0, width=100):
    """Deterministic JSON: tensors and short values on one line, the rest indented."""
    flat = json.dumps(value, separators=(", ", ": "), allow_nan=False, ensure_ascii=False)
    is_tensor = isinstance(value, dict) and "shape" in value
    if not isinstance(value, (dict, list)) or is_tensor or len(flat) + indent <= width:
        return flat
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        items = [f"{pad}{json.dumps(k)}: {dumps(v, indent + 2, width)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    items = [pad + dumps(v, indent + 2, width) for v in value]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"
