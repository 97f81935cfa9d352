"""The matrix products of litmine's spaCy models, twice as fast where BLIS runs its generic kernel,
with the very same bits.

spaCy's networks (the NER models' and the CRAFT parser's embedding and encoder layers, and the
parser's precomputed hidden layer) multiply through thinc's `NumpyOps.gemm`, which calls BLIS.
BLIS picks its kernel by the CPU, and on one it does not know (AMD's Zen 5, family 0x1A) it
falls back to its portable reference kernel: 40 GFLOP/s, where these products were two fifths
of reading an abstract. `ExactOps.gemm` computes what that kernel computes in the same order
(each element's products added one at a time in float32, no fused multiply-add, in blocks of
KC=256 along the inner dimension that are then added), four rows and four steps at a time so
that each value of the weights and the accumulators is read once for sixteen products: three to
four times as fast, and equal to the last bit, so every mention, link and relation is what BLIS's
kernel gives (`benchmarks/same_outputs.py`).

`use_exact_ops` hands it to a loaded pipeline only where BLIS reports its generic kernel, numba
is installed, and the two agree on a test product (`exact_ops`); anywhere else the models keep
BLIS, whose optimized kernels are faster still and whose results they were given. Training takes
it too (`exact_training`, with the weight gradients' transposed products): every step's weights
are BLIS's to the bit, so a model trained either way is the same file, and `litmine models build`
spends about a third less time.
"""
from __future__ import annotations

import ctypes
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import numpy as np
from thinc.api import NumpyOps, get_current_ops, set_current_ops

KC = 256  # the inner-dimension block of BLIS's generic configuration (single precision)


def _kernel(a: np.ndarray, wt: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out = a @ wt, float32, as BLIS's generic kernel sums: per k-block of KC, each product added
    in order to a zeroed accumulator, the blocks' sums then added to the output in order. Four
    rows and four steps of k at a time: each element still adds its products one by one, in order."""
    m, k = a.shape
    n = wt.shape[1]
    acc = np.empty((4, n), np.float32)
    for i0 in range(0, m, 4):
        rows = min(4, m - i0)
        for k0 in range(0, max(k, 1), KC):
            k1 = min(k, k0 + KC)
            acc[:] = 0.0
            l = k0
            if rows == 4:
                while l + 3 < k1:
                    p0, p1, p2, p3 = a[i0, l], a[i0 + 1, l], a[i0 + 2, l], a[i0 + 3, l]
                    q0, q1, q2, q3 = a[i0, l + 1], a[i0 + 1, l + 1], a[i0 + 2, l + 1], a[i0 + 3, l + 1]
                    r0, r1, r2, r3 = a[i0, l + 2], a[i0 + 1, l + 2], a[i0 + 2, l + 2], a[i0 + 3, l + 2]
                    s0, s1, s2, s3 = a[i0, l + 3], a[i0 + 1, l + 3], a[i0 + 2, l + 3], a[i0 + 3, l + 3]
                    for j in range(n):
                        w0, w1, w2, w3 = wt[l, j], wt[l + 1, j], wt[l + 2, j], wt[l + 3, j]
                        acc[0, j] = (((acc[0, j] + p0 * w0) + q0 * w1) + r0 * w2) + s0 * w3
                        acc[1, j] = (((acc[1, j] + p1 * w0) + q1 * w1) + r1 * w2) + s1 * w3
                        acc[2, j] = (((acc[2, j] + p2 * w0) + q2 * w1) + r2 * w2) + s2 * w3
                        acc[3, j] = (((acc[3, j] + p3 * w0) + q3 * w1) + r3 * w2) + s3 * w3
                    l += 4
            for step in range(l, k1):  # what is left: a partial row block, or the last steps of k
                for r in range(rows):
                    x = a[i0 + r, step]
                    for j in range(n):
                        acc[r, j] += x * wt[step, j]
            for r in range(rows):
                for j in range(n):
                    out[i0 + r, j] = acc[r, j] if k0 == 0 else out[i0 + r, j] + acc[r, j]
    return out


class ExactOps(NumpyOps):
    """NumpyOps whose float32 products are computed by `_kernel` (compiled by numba)."""

    name = "litmine_exact"

    def __init__(self, kernel: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self._compiled = kernel

    def gemm(self, x: np.ndarray, y: np.ndarray, *, out: np.ndarray | None = None,
             trans1: bool = False, trans2: bool = False) -> np.ndarray:
        if (x.ndim != 2 or y.ndim != 2 or x.dtype != np.float32 or y.dtype != np.float32
                or (out is not None and not (out.flags.c_contiguous and out.dtype == np.float32))):
            return super().gemm(x, y, out=out, trans1=trans1, trans2=trans2)
        if trans1:  # a weight gradient, x.T @ y: the same sums over the same k, x read transposed
            x = np.ascontiguousarray(x.T)
        # transposed anew each call (1-3% of the product): layers pass a new view of their weights
        # every call, so keeping transposes by array grew memory without end
        wt = np.ascontiguousarray(y.T if trans2 else y)
        if x.shape[1] != wt.shape[0]:
            raise ValueError(f"gemm: shapes {x.shape} and {wt.shape} do not multiply")
        if out is None:
            out = np.empty((x.shape[0], wt.shape[1]), np.float32)
        return self._compiled(np.ascontiguousarray(x), wt, out)


def blis_kernel() -> str:
    """The configuration BLIS chose for this CPU ("generic", "haswell", "zen3", ...), "" if unknown."""
    try:
        import blis.py

        lib = ctypes.CDLL(blis.py.__file__)
        lib.bli_arch_string.restype = ctypes.c_char_p
        return lib.bli_arch_string(lib.bli_arch_query_id()).decode()
    except (ImportError, OSError, AttributeError):
        return ""


@cache
def exact_ops() -> ExactOps | None:
    """ExactOps where they pay and agree with BLIS to the bit, else None (see the module docstring)."""
    if blis_kernel() != "generic":
        return None
    try:
        from numba import njit
    except ImportError:
        return None
    ops = ExactOps(njit(cache=True, boundscheck=False)(_kernel))
    blis, rng = NumpyOps(), np.random.default_rng(0)
    for m, k, n in ((13, 2 * KC + 37, 33), (4, 96, 64), (3, 5, 7)):  # partial k-blocks and partial row blocks
        x, y = rng.standard_normal((m, k), dtype=np.float32), rng.standard_normal((n, k), dtype=np.float32)
        xt, yt = x.T.copy(), y.T.copy()  # and a weight gradient's product, the left side transposed
        if not (np.array_equal(ops.gemm(x, y, trans2=True), blis.gemm(x, y, trans2=True))
                and np.array_equal(ops.gemm(xt, yt, trans1=True), blis.gemm(xt, yt, trans1=True))):
            return None
    return ops


@contextmanager
def exact_training() -> Iterator[bool]:
    """spaCy models created inside train on `exact_ops` where there are any (whether they do): the
    same weights, step for step, as with BLIS's generic kernel, for about a third less time."""
    ops = exact_ops()
    if ops is None:
        yield False
        return
    previous = get_current_ops()
    set_current_ops(ops)
    try:
        yield True
    finally:
        set_current_ops(previous)


def use_exact_ops(nlp: Any) -> bool:
    """Give every layer of a loaded spaCy pipeline's models `exact_ops()`, where there are any;
    whether it did."""
    ops = exact_ops()
    if ops is None:
        return False
    for _, component in nlp.pipeline:
        model = getattr(component, "model", None)
        if model is not None and hasattr(model, "walk"):
            for node in model.walk():
                node.ops = ops
    return True
