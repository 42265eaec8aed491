"""The DDPM noise schedule of the paper's experiments, in the variance-exploding ``sigma`` of molrg.

The paper trains "following the tiny-diffusion repository": ``T = 500`` timesteps, betas
linear from ``1e-4`` to ``0.02`` (``torch.linspace(beta_start, beta_end, T)`` there),
``alpha_t = 1 - beta_t``, ``abar_t = prod_{s <= t} alpha_s`` and the forward process
``x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps``.  Dividing by ``sqrt(abar_t)`` gives the
variance-exploding form of molrg, ``x_t / sqrt(abar_t) = x_0 + sigma_t eps`` with

    ``sigma_t = sqrt((1 - abar_t) / abar_t)``,  ``sqrt(abar_t) = 1 / sqrt(1 + sigma_t^2)``.

The optimal denoiser is equivariant to that scale (``E[x0 | x_t]`` in DDPM coordinates is
``E[x0 | x_t / sqrt(abar_t)]``), so every trained denoiser is evaluated in the VE convention.
NumPy only (no torch): this module is importable without the ``train`` extra.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..validation import ParameterError, check_int

__all__ = ["PAPER_SIGMAS", "DDPMSchedule"]

PAPER_SIGMAS = (0.002, 0.008, 0.023, 0.06, 0.14, 0.296, 0.585, 1.088, 1.923)
"""The paper's nine-point noise grid (Fig. 3, Tables 4-6).  Seven of the points are, within
1%, ``sigma_t`` of the ``T = 500`` schedule at (0-based) ``t = 3, 11, 28, 62, 118, 195, 275``;
0.002 and 0.008 lie below ``sigma_0 = 0.0100`` and are not timesteps of this schedule
(ambiguous in the paper; ``docs/trained.md``)."""


@dataclass(frozen=True)
class DDPMSchedule:
    """A linear-beta DDPM schedule (tiny-diffusion's defaults).

    Parameters
    ----------
    T : number of timesteps, ``T >= 2``.
    beta_start, beta_end : the linear betas' end points, ``0 < beta_start <= beta_end < 1``.
    """

    T: int = 500
    beta_start: float = 1e-4
    beta_end: float = 0.02

    def __post_init__(self) -> None:
        object.__setattr__(self, "T", check_int("T", self.T, low=2))
        b0, b1 = float(self.beta_start), float(self.beta_end)
        if not 0.0 < b0 <= b1 < 1.0:
            raise ParameterError(f"beta_start={self.beta_start!r}, beta_end={self.beta_end!r}; "
                                 "valid: 0 < beta_start <= beta_end < 1")
        object.__setattr__(self, "beta_start", b0)
        object.__setattr__(self, "beta_end", b1)

    @property
    def betas(self) -> np.ndarray:
        """``(T,)`` betas, linear from ``beta_start`` to ``beta_end``."""
        return np.linspace(self.beta_start, self.beta_end, self.T)

    @property
    def alpha_bar(self) -> np.ndarray:
        """``(T,)`` ``abar_t = prod_{s <= t} (1 - beta_s)``."""
        return np.cumprod(1.0 - self.betas)

    @property
    def sigmas(self) -> np.ndarray:
        """``(T,)`` VE noise levels ``sigma_t = sqrt((1 - abar_t) / abar_t)`` (increasing)."""
        ab = self.alpha_bar
        return np.sqrt(-np.expm1(np.log(ab)) / ab)

    def timestep(self, sigma: float) -> int:
        """The timestep whose ``sigma_t`` is nearest to ``sigma`` in ``log sigma``."""
        return int(np.argmin(np.abs(np.log(self.sigmas) - np.log(float(sigma)))))

    def to_json(self) -> dict[str, float | int]:
        return {"T": self.T, "beta_start": self.beta_start, "beta_end": self.beta_end}
