"""Import PyTorch on demand, with a message naming the ``train`` extra when it is absent."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from ..validation import ParameterError

EXTRA_HINT = "pip install 'molrg[train]' (PyTorch >= 2.13; CPU wheel: torch==2.13.0+cpu)"


def require_torch(what: str = "training") -> ModuleType:
    """``torch``, or :class:`~molrg.ParameterError` (exit 2 in the CLI) naming the extra."""
    try:
        import torch
    except ImportError:
        raise ParameterError(f"{what} needs PyTorch, which is not installed; install the "
                             f"extra: {EXTRA_HINT}") from None
    return torch


def torch_available() -> bool:
    """Whether PyTorch can be imported (does not import it when it is missing)."""
    return importlib.util.find_spec("torch") is not None
