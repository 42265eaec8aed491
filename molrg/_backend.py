"""Array namespaces and random-number adapters; with :mod:`molrg.arrays` (``to_numpy``,
``array_namespace``, re-exported here) the only backend-aware code.

The numerical code is written once against the array-API standard; this module
resolves a backend *name* to a namespace and gives each namespace a random generator
with one interface (:class:`Random`).  There is no global backend state: every
function receives its namespace (or infers it from its array arguments).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
from array_api_compat import is_cupy_namespace

from .arrays import array_namespace, to_numpy
from .options import BACKENDS, DEFAULT_MEMORY_BYTES
from .validation import ParameterError, ParameterTypeError

__all__ = [
    "BACKENDS",
    "Random",
    "array_namespace",
    "check_seed",
    "namespace",
    "resolve_dtype",
    "to_numpy",
]

Seed = int | np.random.Generator | np.random.SeedSequence | None


def check_seed(seed: Any, name: str = "seed") -> None:
    """Raise unless ``seed`` is a non-negative int, a Generator, a SeedSequence, a
    :class:`Random` or ``None``."""
    if seed is None or isinstance(seed, (np.random.Generator, np.random.SeedSequence, Random)):
        return
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise ParameterTypeError(f"{name}={seed!r} must be a non-negative integer, a "
                        "numpy.random.Generator or a numpy.random.SeedSequence")
    if seed < 0:
        raise ParameterError(f"{name}={seed!r} is out of range; valid: [0, inf)")

CUPY_INSTALL_HINT = (
    "CuPy is not installed. Install the wheel matching your CUDA toolkit, e.g. "
    "`pip install 'molrg[gpu]'` (CUDA 12.x: cupy-cuda12x) or "
    "`pip install cupy-cuda11x` for CUDA 11.x; see docs/gpu.md."
)


def namespace(backend: str | ModuleType, name: str = "backend") -> ModuleType:
    """Return the array-API namespace for a backend name (or pass a namespace through).

    Raises
    ------
    ValueError
        If ``backend`` is not one of :data:`BACKENDS`, or is ``"cupy"`` and CuPy cannot be
        imported (the message says how to install it).
    """
    if isinstance(backend, ModuleType):
        return array_namespace(backend.asarray(0.0)) if hasattr(backend, "asarray") else backend
    if backend == "numpy":
        return np
    if backend == "cupy":
        try:
            import cupy  # noqa: F401
        except ImportError as exc:  # pragma: no cover - depends on the machine
            raise ParameterError(f"{name}='cupy' is unavailable: {CUPY_INSTALL_HINT}") from exc
        import array_api_compat.cupy as xp_cupy

        return xp_cupy
    if backend == "array_api_strict":
        import array_api_strict

        return array_api_strict
    raise ParameterError(f"{name}={backend!r} is not a known backend; valid: {BACKENDS}")


def memory_budget(xp: ModuleType, requested: int) -> int:
    """Working-memory budget of one batch in bytes.

    On the host: ``requested``.  On a GPU, when ``requested`` is the default, a sixteenth of
    the device's *total* memory (at least the default; ~8.7 GB on an H200): batches are
    sized to fill the device, and the batch size -- hence the random stream -- does not
    change from call to call with the memory pool's state (it would with free memory).
    """
    return device_budget(xp, requested) if requested == DEFAULT_MEMORY_BYTES else requested


def device_budget(xp: ModuleType, default: int) -> int:
    """A default working-memory budget scaled to the device: ``default`` on the host,
    ``max(default, total / 16)`` on a CuPy device (its *total* memory, so that the chunking
    -- and with it any random stream -- does not depend on the memory pool's state)."""
    if is_cupy_namespace(xp):  # pragma: no cover - GPU
        import cupy

        _free, total = cupy.cuda.Device().mem_info
        return max(default, int(total) // 16)
    return default


MiB = 1 << 20


def resolve_dtype(xp: ModuleType, dtype: Any, name: str = "dtype") -> Any:
    """Map ``"float32"``/``"float64"`` (or such a dtype, of NumPy or of ``xp``) to ``xp``'s."""
    if isinstance(dtype, str):
        text = dtype
    elif isinstance(dtype, (np.dtype, type)):
        try:
            text = np.dtype(dtype).name
        except TypeError:
            text = str(dtype)
    elif dtype in (xp.float32, xp.float64):
        text = "float32" if dtype == xp.float32 else "float64"
    else:
        text = str(dtype)
    if text not in ("float32", "float64"):
        raise ParameterError(f"{name}={dtype!r} is not supported; valid: 'float32', 'float64'")
    return getattr(xp, text)


def float_dtype_of(xp: ModuleType, x: Any, name: str = "x") -> str:
    """``"float32"`` or ``"float64"`` for a real floating array, else an error naming it."""
    if x.dtype == xp.float64:
        return "float64"
    if x.dtype == xp.float32:
        return "float32"
    raise ParameterTypeError(f"{name} has dtype {x.dtype}; valid: float32, float64")


def _dtype_name(dtype: Any) -> str:
    return "float64" if "64" in str(dtype) else "float32"


class Random:
    """One random-number interface over NumPy and CuPy generators.

    NumPy-like namespaces (NumPy, ``array_api_strict``) draw with a
    :class:`numpy.random.Generator` and move the result into the namespace; CuPy draws on
    the device with :func:`cupy.random.default_rng`.  CuPy and NumPy streams differ, so
    results agree across backends in distribution, not in value.

    Parameters
    ----------
    seed : int, numpy.random.SeedSequence, numpy.random.Generator or None.  A Generator
        is used as is on NumPy; for CuPy an integer seed is drawn from it.
    xp : the array namespace draws are returned in.
    """

    def __init__(self, seed: Seed, xp: ModuleType) -> None:
        check_seed(seed)
        self.xp = xp
        self._cupy = is_cupy_namespace(xp)
        if self._cupy:  # pragma: no cover - needs a GPU
            import cupy

            if isinstance(seed, np.random.Generator):
                seed = int(seed.integers(2**63))
            elif isinstance(seed, np.random.SeedSequence):
                seed = int(seed.generate_state(1, np.uint64)[0])
            self._gen = cupy.random.default_rng(seed)
        else:
            self._gen = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    def _wrap(self, a: Any) -> Any:
        return a if self._cupy else self.xp.asarray(a)

    def standard_normal(self, shape: tuple[int, ...], dtype: Any) -> Any:
        """Standard normal draws of ``shape`` in ``dtype`` (float32 drawn natively)."""
        return self._wrap(self._gen.standard_normal(shape, dtype=_dtype_name(dtype)))

    def choice(self, p: np.ndarray, size: int) -> Any:
        """``size`` int64 draws from the categorical distribution ``p`` (on the host, moved)."""
        host = self._gen if isinstance(self._gen, np.random.Generator) else \
            np.random.default_rng(int(self._gen.integers(0, 2**62)))
        return self.xp.asarray(host.choice(len(p), size=size, p=p).astype(np.int64))

    def integers(self, high: int, shape: tuple[int, ...]) -> Any:
        """Uniform integers on ``0..high-1`` (int64)."""
        return self._wrap(self._gen.integers(0, high, size=shape, dtype=np.int64))

    def chisquare(self, df: float, shape: tuple[int, ...], dtype: Any) -> Any:
        """Chi-square draws with ``df`` degrees of freedom, as ``2 * Gamma(df / 2)``.

        ``standard_gamma(..., dtype=)`` returns float32 when asked, on NumPy (drawn natively)
        and on CuPy (whose kernel may compute in float64 and cast); ``chisquare`` would
        return float64 only.
        """
        g = self._gen.standard_gamma(df / 2.0, size=shape, dtype=_dtype_name(dtype))
        return self._wrap(2.0 * g)
