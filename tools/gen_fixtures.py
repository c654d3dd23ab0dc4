#!/usr/bin/env python3
"""Generate nnconf's `Fixtures/` (format `nnconf/1`, see shared/fixture-format.md) from PyTorch.

    pip install -r tools/requirements.txt && python3 tools/gen_fixtures.py

Every input comes from SplitMix64 (never torch's RNG) and every expected value from running
torch on it, single-threaded, so two runs write byte-identical files. After writing, each file
is reloaded and checked. `--check` regenerates in memory and fails if the files on disk differ.
"""

import argparse
import importlib
import pathlib
import pkgutil
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import torch  # noqa: E402

from fixturegen import rng, verify  # noqa: E402
from fixturegen.cases import dumps  # noqa: E402
import fixturegen.families  # noqa: E402

# Every module of fixturegen/families with a `build()`, in name order: adding a family is
# adding a module.
FAMILY_NAMES = sorted(m.name for m in pkgutil.iter_modules(fixturegen.families.__path__))


def families(only=None):
    """The family modules to run: all of them, or those named in `only`."""
    names = [n for n in FAMILY_NAMES if not only or n in only]
    unknown = set(only or ()) - set(FAMILY_NAMES)
    if unknown:
        sys.exit(f"unknown families: {', '.join(sorted(unknown))} (known: {', '.join(FAMILY_NAMES)})")
    return [importlib.import_module(f"fixturegen.families.{n}") for n in names]
DEFAULT_OUT = pathlib.Path(__file__).resolve().parent.parent / "Fixtures"


def generate(only=None):
    """{relative path: file text} for every fixture file (of the families in `only`)."""
    rng.self_test()
    torch.set_num_threads(1)  # reduction order must not depend on the machine's core count
    torch.use_deterministic_algorithms(True)
    texts = {}
    for family in families(only):
        for fixture in family.build():
            texts[fixture.path + ".json"] = dumps(fixture.document()) + "\n"
    return texts


def write(out, texts, prune):
    for rel, text in texts.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if not prune:  # a partial run (--only) cannot tell a stale file from another family's
        return
    # Remove files of our directories that this run no longer generates.
    for top in sorted({rel.split("/")[0] for rel in texts}):
        for path in sorted((out / top).rglob("*.json")):
            if path.relative_to(out).as_posix() not in texts:
                print(f"removing stale {path.relative_to(out)}")
                path.unlink()


def check_unchanged(out, texts):
    changed = [rel for rel, text in texts.items()
               if not (out / rel).is_file() or (out / rel).read_text(encoding="utf-8") != text]
    for rel in changed:
        print(f"differs: {rel}")
    return not changed


def report(out, rels):
    """Reload and verify every written file; print per-file and total case counts."""
    total, size, problems = 0, 0, []
    for rel in sorted(rels):
        count, file_problems = verify.verify_file(out / rel)
        problems += file_problems
        total += count
        size += (out / rel).stat().st_size
        print(f"{count:5d}  {rel}")
    print(f"{total:5d}  cases in {len(rels)} files, {size / 1e6:.2f} MB")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return not problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT,
                        help="fixture directory (default: the repository's Fixtures/)")
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the files on disk differ from a fresh run")
    parser.add_argument("--only", nargs="+", metavar="FAMILY",
                        help="generate only these family modules of tools/fixturegen/families")
    options = parser.parse_args()
    texts = generate(options.only)
    if options.check:
        ok = check_unchanged(options.out, texts)
        print("fixtures are up to date" if ok else "fixtures are out of date: regenerate them")
        return 0 if ok else 1
    write(options.out, texts, prune=not options.only)
    return 0 if report(options.out, texts) else 1


if __name__ == "__main__":
    sys.exit(main())
