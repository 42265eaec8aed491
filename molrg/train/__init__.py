"""``molrg.train``: trained denoisers (PyTorch, the optional ``train`` extra).

* :func:`train_denoiser` -- fit the paper's eq.-4 DAE (one shared ``U`` or one per noise
  level) or a sigma-conditioned MLP to samples of a model, with the paper's loss (eq. 2)
  and DDPM schedule (``T = 500``, linear betas; :class:`DDPMSchedule`); returns a
  :class:`TrainedDenoiser`, a :class:`~molrg.Denoiser` with ``basis``, ``loss_history``,
  ``save``/``load``.
* :class:`TorchDenoiser` -- any ``torch.nn.Module`` ``(x_t, sigma or t) -> xhat`` as a
  denoiser (DLPack, batches, ``no_grad``, checked output).
* :func:`subspace_recovery` -- principal angles between a learned basis and the truth.

Importing this package, or any of its names, does not import torch: it is imported when a
network is built or trained, and :class:`~molrg.ParameterError` names the extra when it is
absent.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._torch import require_torch, torch_available
    from .adaptor import TorchDenoiser
    from .angles import SubspaceRecovery, subspace_recovery
    from .fit import TrainedDenoiser, train_denoiser
    from .options import TrainMonitor, TrainOptions
    from .schedule import PAPER_SIGMAS, DDPMSchedule

__all__ = [
    "PAPER_SIGMAS",
    "DDPMSchedule",
    "SubspaceRecovery",
    "TorchDenoiser",
    "TrainMonitor",
    "TrainOptions",
    "TrainedDenoiser",
    "require_torch",
    "subspace_recovery",
    "torch_available",
    "train_denoiser",
]

_LAZY = {
    "PAPER_SIGMAS": "schedule",
    "DDPMSchedule": "schedule",
    "SubspaceRecovery": "angles",
    "subspace_recovery": "angles",
    "TrainMonitor": "options",
    "TrainOptions": "options",
    "TorchDenoiser": "adaptor",
    "TrainedDenoiser": "fit",
    "train_denoiser": "fit",
    "torch_available": "_torch",
    "require_torch": "_torch",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'molrg.train' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
