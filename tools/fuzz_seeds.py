#!/usr/bin/env python3
"""Seed corpus and dictionary for the fixture fuzzer (tools/fuzz.sh).

Splits every fixture file under Fixtures/ into one small file per case
({"format": "nnconf/1", "cases": [CASE]}), keeping the cases whose JSON is at most
--max-bytes long, and writes a libFuzzer dictionary of the format's keys and values plus
every op and module name the fixtures use.

    tools/fuzz_seeds.py Fixtures .build-fuzz/seeds .build-fuzz/fixture.dict
"""
import argparse
import hashlib
import json
import os
import sys

FORMAT_WORDS = [
    # file and case keys
    "format", "nnconf/1", "generator", "description", "cases", "name", "call", "args", "expect",
    "backward", "tolerance", "grad_tolerance", "tags", "program",
    # expectations
    "output", "error", "type", "match", "message", "warning", "grad_output", "grads", "rtol", "atol",
    "dropout", "p", "mask_dims", "alpha", "sigma",
    # tensors and values
    "shape", "dtype", "data", "b64", "init", "uniform", "randint", "seed", "requires_grad", "ref",
    "float32", "float64", "int64", "bool", "nan", "inf", "-inf",
    # program steps
    "let", "tensor", "module", "children", "state", "forward", "train", "eval", "no_grad", "gradient",
    "check", "value", "grad", "attrs", "parameter_names", "retain_graph", "zero_grad", "requires_grad_",
    "is_leaf", "grad_fn", "_version", "version",
    # error types
    "RuntimeError", "ValueError", "TypeError", "IndexError", "NotImplementedError",
]
TOKENS = ["{", "}", "[", "]", ":", ",", "true", "false", "null", "0", "-1", "1e308", "-0",
          "9223372036854775807", "-9223372036854775808", "[]", "{}", "[[", "]]"]


def walk_names(obj, calls, modules):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in ("call", "forward") and isinstance(v, str):
                calls.add(v)
            if k == "module" and isinstance(v, str):
                modules.add(v)
            walk_names(v, calls, modules)
    elif isinstance(obj, list):
        for v in obj:
            walk_names(v, calls, modules)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("fixtures")
    ap.add_argument("seeds")
    ap.add_argument("dictionary")
    ap.add_argument("--max-bytes", type=int, default=4096)
    a = ap.parse_args()
    os.makedirs(a.seeds, exist_ok=True)
    calls, modules = set(), set()
    written = skipped = 0
    for root, _, files in os.walk(a.fixtures):
        for f in sorted(files):
            if not f.endswith(".json"):
                continue
            with open(os.path.join(root, f)) as fh:
                doc = json.load(fh)
            walk_names(doc, calls, modules)
            for case in doc.get("cases", []):
                text = json.dumps({"format": "nnconf/1", "cases": [case]}, separators=(",", ":"))
                if len(text) > a.max_bytes:
                    skipped += 1
                    continue
                digest = hashlib.sha1(text.encode()).hexdigest()
                with open(os.path.join(a.seeds, digest + ".json"), "w") as out:
                    out.write(text)
                written += 1
    with open(a.dictionary, "w") as d:
        for w in FORMAT_WORDS + sorted(calls) + sorted(modules):
            d.write(json.dumps(json.dumps(w)) + "\n")
        for t in TOKENS:
            d.write(json.dumps(t) + "\n")
    print(f"fuzz_seeds: {written} single-case seeds (skipped {skipped} over {a.max_bytes} bytes), "
          f"{len(FORMAT_WORDS) + len(calls) + len(modules) + len(TOKENS)} dictionary entries", file=sys.stderr)


if __name__ == "__main__":
    main()
