"""Arrays of any supported namespace: which namespace an array has, and a host copy.

The bottom of the package (it imports nothing from ``molrg``), so that validation,
backends and options can all use it without importing each other in a circle.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import array_api_compat
import numpy as np

__all__ = ["array_namespace", "cached_in", "to_numpy"]


def array_namespace(*arrays: Any) -> ModuleType:
    """The array-API namespace of ``arrays``.

    NumPy (>= 2.1) arrays get ``numpy`` itself, which implements the standard: its
    ``array_api_compat`` wrapper costs some 0.4 s to import, a third of the main
    command's budget.  Every other library goes through ``array_api_compat``.
    """
    if arrays and all(isinstance(a, (np.ndarray, np.generic)) for a in arrays):
        return np
    return array_api_compat.array_namespace(*arrays)


def to_numpy(x: Any) -> np.ndarray:
    """Copy an array of any supported namespace to a NumPy array (host memory)."""
    if hasattr(x, "get") and type(x).__module__.startswith("cupy"):
        return np.asarray(x.get())
    if isinstance(x, np.ndarray):
        return x
    try:
        return np.from_dlpack(x)
    except (TypeError, AttributeError, BufferError, RuntimeError):
        return np.asarray(x)


def cached_in(model: Any, key: tuple[Any, ...], make: Any) -> Any:
    """``make()`` cached on ``model`` under ``key``: the one namespace/dtype cache of the
    models (bases, means, scales converted to a backend once, not at every call)."""
    cache = model.__dict__.setdefault("_ns_cache", {})
    if key not in cache:
        cache[key] = make()
    return cache[key]
