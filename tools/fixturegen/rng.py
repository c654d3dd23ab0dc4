"""SplitMix64, exactly as `nnconf/1` specifies it, and the `init` formulas built on it."""

import numpy as np

MASK64 = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB

# Published in the format: the first three values of next() for seed 0.
PUBLISHED_SEED0 = (0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F)


class SplitMix64:
    """The scalar reference implementation (Python ints, modulo 2^64)."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + GAMMA) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * MIX1) & MASK64
        z = ((z ^ (z >> 27)) * MIX2) & MASK64
        return z ^ (z >> 31)

    def unit(self):
        return (self.next() >> 11) * 2.0**-53


def next_values(seed, n):
    """The first `n` values of next() for `seed`, vectorised (uint64 arithmetic wraps)."""
    k = np.arange(1, n + 1, dtype=np.uint64)
    z = np.uint64(seed & MASK64) + k * np.uint64(GAMMA)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(MIX1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(MIX2)
    return z ^ (z >> np.uint64(31))


def unit_floats(seed, n):
    """u in [0, 1) for each of the first `n` values: (next() >> 11) * 2^-53, exact in float64."""
    return (next_values(seed, n) >> np.uint64(11)).astype(np.float64) * 2.0**-53


def uniform(shape, lo, hi, seed, dtype):
    """`init: {"uniform": [lo, hi]}`: lo + (hi - lo) * u in float64, rounded to `dtype`."""
    n = int(np.prod(shape, dtype=np.int64))
    u = unit_floats(seed, n)
    values = np.float64(lo) + (np.float64(hi) - np.float64(lo)) * u
    return values.astype(dtype).reshape(shape)


def randint(shape, lo, hi, seed):
    """`init: {"randint": [lo, hi]}`: lo + floor(u * (hi - lo)), in [lo, hi)."""
    n = int(np.prod(shape, dtype=np.int64))
    u = unit_floats(seed, n)
    values = np.int64(lo) + np.floor(u * np.float64(hi - lo)).astype(np.int64)
    return values.reshape(shape)


def self_test():
    """Assert the published values, and that the vectorised form equals the scalar one."""
    g = SplitMix64(0)
    got = tuple(g.next() for _ in range(3))
    assert got == PUBLISHED_SEED0, [hex(v) for v in got]
    for seed in (0, 1, 7, 123456789, MASK64):
        g = SplitMix64(seed)
        scalar = [g.next() for _ in range(5)]
        assert [int(v) for v in next_values(seed, 5)] == scalar, seed
        g = SplitMix64(seed)
        assert list(unit_floats(seed, 5)) == [g.unit() for _ in range(5)], seed
