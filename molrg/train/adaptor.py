"""``TorchDenoiser``: any ``torch.nn.Module`` as a molrg :class:`~molrg.Denoiser`.

The module takes ``(x_t, s)`` with ``x_t`` of shape ``(B, n)`` and ``s`` of shape ``(B,)``
and returns the ``(B, n)`` estimate of ``x_0``.  Two time conventions:

* ``time="sigma"`` (variance exploding, molrg's): ``x_t = x_0 + sigma eps``, ``s = sigma``;
* ``time="ddpm"``: the module was trained on ``x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps``
  with integer timesteps of a :class:`~molrg.train.DDPMSchedule`; the adaptor feeds it
  ``sqrt(abar_t) x`` and ``t`` = the timestep whose ``sigma_t`` is nearest to ``sigma`` (in
  ``log sigma``; ``sigma_t = sqrt((1 - abar_t) / abar_t)``).

Arrays cross by DLPack (``torch.from_dlpack`` and the caller's namespace's ``from_dlpack``):
no host copy when both sides are on the same device (NumPy <-> CPU tensors, CuPy <-> CUDA
tensors).  The module runs under ``torch.no_grad()`` in batches of ``batch`` rows, in its
own parameters' dtype and device; the result comes back in the input's namespace, dtype
and shape.  A module that raises, returns something other than a ``(B, n)`` tensor, or
returns NaN or infinity gets a :class:`~molrg.ParameterError` naming the module, never a
number.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import array_namespace
from ..validation import ParameterError, ParameterTypeError, check_choice, check_int, check_sigma_scalar
from ._torch import require_torch
from .schedule import DDPMSchedule

__all__ = ["TorchDenoiser"]

TIMES = ("sigma", "ddpm")


def _to_torch(torch: Any, x: Any) -> Any:
    """``x`` as a torch tensor by DLPack (a copy only where DLPack refuses, e.g. read-only)."""
    if isinstance(x, torch.Tensor):
        return x
    try:
        return torch.from_dlpack(x)
    except (BufferError, TypeError, RuntimeError, AttributeError, ValueError):
        return torch.as_tensor(np.array(np.from_dlpack(x), copy=True))


def _from_torch(xp: Any, t: Any, like: Any) -> Any:
    """Tensor ``t`` in namespace ``xp`` (DLPack; NumPy/CuPy share memory with it)."""
    t = t.contiguous()
    try:
        out = xp.from_dlpack(t)
    except (BufferError, TypeError, RuntimeError, AttributeError, ValueError):
        out = xp.asarray(t.cpu().numpy())
    return out if out.dtype == like.dtype else xp.astype(out, like.dtype)


class TorchDenoiser:
    """A ``torch.nn.Module`` ``(x_t, s) -> xhat`` as a :class:`~molrg.Denoiser`.

    Parameters
    ----------
    module : the network; called as ``module(x_t, s)`` (``(B, n)``, ``(B,)``).
    time : ``"sigma"`` (``s = sigma``, VE input) or ``"ddpm"`` (``s`` = integer timestep,
        DDPM-scaled input; module docstring).
    schedule : the :class:`~molrg.train.DDPMSchedule` of ``time="ddpm"`` (default T=500).
    batch : rows per module call (bounds the memory of one call), ``>= 1``.
    name : how errors name the module (default: its class name).

    Examples
    --------
    >>> den = TorchDenoiser(my_module)                       # doctest: +SKIP
    >>> molrg.snr(model, sigmas, denoiser=den, method="ambient")  # doctest: +SKIP
    """

    def __init__(self, module: Any, *, time: str = "sigma", schedule: DDPMSchedule | None = None,
                 batch: int = 8192, name: str | None = None) -> None:
        torch = require_torch("molrg.TorchDenoiser")
        if not isinstance(module, torch.nn.Module):
            raise ParameterTypeError(f"module={type(module).__name__} must be a torch.nn.Module "
                                     "taking (x_t, sigma or t)")
        self.module = module
        self.time = check_choice("time", time, TIMES)
        if schedule is not None and not isinstance(schedule, DDPMSchedule):
            raise ParameterTypeError(f"schedule={schedule!r} must be a molrg.train.DDPMSchedule")
        self.schedule = schedule or DDPMSchedule()
        self.batch = check_int("batch", batch, low=1)
        self.name = name or type(module).__name__
        self._torch = torch
        p = next(iter(module.parameters()), None)
        self.dtype = None if p is None else p.dtype
        self.device = torch.device("cpu") if p is None else p.device

    def __repr__(self) -> str:
        return f"TorchDenoiser({self.name}, time={self.time!r}, batch={self.batch})"

    def _fail(self, what: str) -> ParameterError:
        return ParameterError(f"module {self.name} {what}")

    def __call__(self, x: Any, sigma: float, /) -> Any:
        """``xhat`` for ``x`` of shape ``(..., n)`` (any array-API namespace) at ``sigma``."""
        torch = self._torch
        s = check_sigma_scalar(sigma)
        xp = array_namespace(x)
        if x.ndim < 1:
            raise ParameterError(f"x has shape {tuple(x.shape)}; valid: (..., n)")
        lead, n = tuple(x.shape[:-1]), int(x.shape[-1])
        m = int(np.prod(lead)) if lead else 1
        xt = _to_torch(torch, x).reshape(m, n)
        dtype = self.dtype or xt.dtype
        xt = xt.to(device=self.device, dtype=dtype)
        if self.time == "ddpm":
            t = self.schedule.timestep(s)
            scale = float(np.sqrt(self.schedule.alpha_bar[t]))
            xt = xt * scale
        outs = []
        was_training = self.module.training
        self.module.eval()
        try:
            with torch.no_grad():
                for i in range(0, m, self.batch):
                    xb = xt[i:i + self.batch]
                    b = xb.shape[0]
                    if self.time == "sigma":
                        sb = torch.full((b,), s, dtype=dtype, device=self.device)
                    else:
                        sb = torch.full((b,), t, dtype=torch.long, device=self.device)
                    try:
                        out = self.module(xb, sb)
                    except Exception as exc:
                        raise self._fail(f"raised {type(exc).__name__}: {exc} (input ({b}, {n}) "
                                         f"at sigma={s:g})") from exc
                    if not isinstance(out, torch.Tensor):
                        raise self._fail(f"returned a {type(out).__name__}; valid: a ({b}, {n}) "
                                         "tensor")
                    if tuple(out.shape) != (b, n):
                        raise self._fail(f"returned shape {tuple(out.shape)} for input ({b}, {n}); "
                                         f"valid: ({b}, {n})")
                    if not bool(torch.isfinite(out).all()):
                        raise self._fail(f"returned non-finite values (NaN or inf) at sigma={s:g}")
                    outs.append(out)
        finally:
            self.module.train(was_training)
        out = torch.cat(outs) if len(outs) > 1 else outs[0]
        if self.device.type != "cpu" and xp.__name__.split(".")[-1] in ("numpy", "array_api_strict"):
            out = out.cpu()
        return xp.reshape(_from_torch(xp, out, x), (*lead, n))
