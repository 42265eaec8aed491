"""BLAS thread limits for kernels whose matrix products are small (threadpoolctl).

OpenBLAS starts one thread per core for every product.  On the tiny products of the
quadrature (a few hundred by a few dozen) the threads' start-up and synchronisation cost
more than the product, and on a machine whose cores are busy (a shared machine, or one
Dask worker per core) a waiting thread stalls the whole product: a 200-point quadrature
curve at ``K=3, d=5`` took 1.4 s with the default threads and 0.22 s with one on a busy
2-core machine (docs/performance.md, "BLAS threads and memory").  The kernels therefore
run with BLAS limited to one thread where their products are small:

* the quadrature, always (:func:`molrg.snr` with ``method="quadrature"``, and the exact
  peak of :func:`molrg.snr_peak`);
* the Monte Carlo simulators on the host, when their largest product per batch has fewer
  than :data:`SMALL_PRODUCT_FLOPS` multiply-adds (the reduced simulator has none; the
  ambient one multiplies ``rows x n`` noise by an ``n x K d`` basis).

A limit is a context: the previous thread counts are restored on exit.  Where the user
asked for threads explicitly (``MOLRG_BLAS_THREADS``), that number is used instead, and
``MOLRG_BLAS_THREADS=0`` turns the limiting off.  Namespaces other than NumPy-backed ones
(CuPy) are left alone: their products do not run on the host's BLAS.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from types import ModuleType
from typing import Any

from array_api_compat import is_cupy_namespace
from threadpoolctl import ThreadpoolController

__all__ = ["SMALL_PRODUCT_FLOPS", "blas_threads", "limit_blas", "small_products"]

SMALL_PRODUCT_FLOPS = 1 << 27
"""Multiply-adds of one product below which a second BLAS thread does not pay on a busy
machine (~0.1 s of single-threaded work at ~1e9 multiply-adds/s, well above the quadrature's
products and the ambient simulator's products at moderate ``n``)."""

ENV = "MOLRG_BLAS_THREADS"

_controller: Any = None


def _get_controller() -> Any:
    """One cached :class:`threadpoolctl.ThreadpoolController` (3 ms to build, 13 us to use)."""
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller


def _requested() -> int | None:
    """The thread count asked for in ``MOLRG_BLAS_THREADS`` (0: no limiting), else None."""
    text = os.environ.get(ENV, "").strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        return None
    return max(0, value)


def blas_threads() -> int | None:
    """The largest thread count among the loaded BLAS libraries (None if none is loaded)."""
    counts = [lib.num_threads for lib in _get_controller().select(user_api="blas").lib_controllers]
    return max(counts) if counts else None


@contextmanager
def limit_blas(threads: int = 1) -> Iterator[None]:
    """Run the body with BLAS limited to ``threads`` threads (``MOLRG_BLAS_THREADS`` wins).

    A no-op where the libraries already run with at most that many threads, so nested
    limits and single-threaded processes (Dask workers) pay nothing.
    """
    requested = _requested()
    if requested == 0:
        yield
        return
    limit = threads if requested is None else requested
    current = blas_threads()
    if current is None or current <= limit:
        yield
        return
    with _get_controller().limit(limits=limit, user_api="blas"):
        yield


def small_products(xp: ModuleType, flops: float = 0.0) -> Any:
    """:func:`limit_blas` to one thread for a NumPy-backed ``xp`` whose largest product has
    fewer than :data:`SMALL_PRODUCT_FLOPS` multiply-adds; a null context otherwise."""
    if is_cupy_namespace(xp) or flops >= SMALL_PRODUCT_FLOPS:
        return nullcontext()
    return limit_blas(1)
