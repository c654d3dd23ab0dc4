#!/usr/bin/env python3
"""The `conformance bench` suite in PyTorch, timed the same way, written in the same JSON shape.

    python3 tools/torch_bench.py --out Reports/torch-bench.json
    .build/release/conformance bench --backend all --compare Reports/torch-bench.json

The suite is read from tools/bench_suite.json (written by `conformance bench --dump-suite`), so
both sides run exactly the same cases: each is `torch.nn.functional.<op>(**args)` in float32.
Timing (as BenchTiming.swift): `warmup` untimed calls, then timed calls until `repeats` samples,
or until `budget` seconds were spent with at least `minimum_repeats` samples; the median sample.
Backward is `y.backward(gradient)` on a fresh graph per sample, the forward not timed, leaf
gradients reset to None first.
"""
import argparse
import datetime
import json
import math
import os
import platform
import statistics
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def make_tensor(spec, gen):
    shape = spec["shape"]
    fill = spec["fill"]
    if fill == "classes":
        return torch.randint(0, spec["classes"], shape, generator=gen, dtype=torch.int64)
    t = torch.rand(shape, generator=gen, dtype=torch.float32)
    t = t * 2 - 1 if fill == "uniform" else t + 0.1
    return t.requires_grad_(spec["requires_grad"])


def arguments(case, seed):
    gen = torch.Generator().manual_seed(seed)
    args = {}
    for key, value in case["args"]:
        args[key] = make_tensor(value["tensor"], gen) if isinstance(value, dict) and "tensor" in value else value
    return args


def flops(case, args, out):
    """Forward flops of the matrix-product ops (multiply-add = 2), as FlopCount.swift."""
    w = args.get("weight")
    if w is None or case["op"] not in ("conv1d", "conv2d", "conv3d", "linear"):
        return None, None
    per_output = math.prod(w.shape[1:]) if case["op"] != "linear" else w.shape[-1]
    forward = 2.0 * out.numel() * per_output
    products = sum(1 for k in ("input", "weight") if isinstance(args.get(k), torch.Tensor) and args[k].requires_grad)
    return forward, (forward * products if products else None)


def samples(settings, body):
    spent = 0.0
    for _ in range(settings["warmup"]):
        if spent >= settings["budget"]:
            break
        spent += body()
    out = []
    while len(out) < max(settings["repeats"], 1):
        if spent >= settings["budget"] and len(out) >= settings["minimum_repeats"]:
            break
        s = body()
        out.append(s)
        spent += s
    return out


def measure(case, settings, seed):
    fn = getattr(F, case["op"])
    args = arguments(case, seed)
    result = {"name": case["name"], "op": case["op"], "backend": "torch", "gemm_bound": case["gemm_bound"],
              "forward_repeats": 0, "backward_repeats": 0}
    kept = [fn(**args)]
    fwd_flops, bwd_flops = flops(case, args, kept[0])

    cpu = []

    def forward():
        kept[0] = None
        start, cpu_start = time.perf_counter(), time.process_time()
        y = fn(**args)
        s = time.perf_counter() - start
        cpu.append(time.process_time() - cpu_start)
        kept[0] = y
        return s

    f = samples(settings, forward)
    result["forward_ms"] = statistics.median(f) * 1000
    result["forward_repeats"] = len(f)
    result["forward_min_ms"] = min(f) * 1000
    result["forward_cpu_ms"] = statistics.median(cpu[-len(f):]) * 1000
    if fwd_flops:
        result["forward_gflops"] = fwd_flops / (result["forward_ms"] * 1e6)
    if not case["backward"]:
        return result
    leaves = [t for t in args.values() if isinstance(t, torch.Tensor) and t.requires_grad]
    y0 = kept[0]
    gradient = None if y0.numel() == 1 else torch.rand(y0.shape, generator=torch.Generator().manual_seed(0x5EED)) * 2 - 1
    kept[0] = None

    cpu.clear()

    def backward():
        for t in leaves:
            t.grad = None
        y = fn(**args)
        start, cpu_start = time.perf_counter(), time.process_time()
        y.backward(gradient)
        s = time.perf_counter() - start
        cpu.append(time.process_time() - cpu_start)
        return s

    b = samples(settings, backward)
    result["backward_ms"] = statistics.median(b) * 1000
    result["backward_repeats"] = len(b)
    result["backward_min_ms"] = min(b) * 1000
    result["backward_cpu_ms"] = statistics.median(cpu[-len(b):]) * 1000
    if bwd_flops:
        result["backward_gflops"] = bwd_flops / (result["backward_ms"] * 1e6)
    return result


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "unknown"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--suite", default=os.path.join(HERE, "bench_suite.json"))
    p.add_argument("--out", default="Reports/torch-bench.json")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="torch.set_num_threads (default: all cores, as ours)")
    p.add_argument("--filter", default=None, help="only cases whose name contains this")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--budget", type=float, default=2.0)
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    with open(a.suite) as f:
        suite = json.load(f)
    settings = {"warmup": a.warmup, "repeats": a.repeats, "minimum_repeats": 3, "budget": a.budget}
    run = {
        "format": "nnconf-bench/1",
        "created": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "machine": {"cpu": cpu_name(), "cores": str(os.cpu_count()), "torch": torch.__version__,
                    "torch_threads": str(torch.get_num_threads()), "python": platform.python_version(),
                    "mkldnn": str(torch.backends.mkldnn.is_available()), "load_average": load_average()},
        "threads": torch.get_num_threads(),
        "settings": settings,
        "sgemm_gflops": {},
        "results": [],
    }
    for i, case in enumerate(suite["cases"]):
        if a.filter and a.filter not in case["name"] and case["name"] != "sgemm_2048":
            continue
        print(f"[{i + 1}/{len(suite['cases'])}] {case['name']}", flush=True)
        r = measure(case, settings, seed=1000 + i)
        if case["name"] == "sgemm_2048":
            run["sgemm_gflops"]["torch"] = r["forward_gflops"]
        else:
            run["results"].append(r)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(run, f, indent=2, sort_keys=True)
    for r in run["results"]:
        print(f"{r['name']:32s} fwd {r['forward_ms']:9.3f} ms   bwd {r.get('backward_ms', float('nan')):9.3f} ms")
    print(f"sgemm 2048³: {run['sgemm_gflops'].get('torch', float('nan')):.0f} GFLOP/s; wrote {a.out}")


if __name__ == "__main__":
    main()
