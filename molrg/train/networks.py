"""The trainable denoisers (PyTorch modules, VE convention: ``forward(x, sigma) -> xhat``).

* :class:`DAENet` -- the paper's parameterised DAE (its eq. 4), ``theta = {U}``:
  ``xhat = U D U^T x``, ``D = blockdiag(beta_l I_d)``, ``beta_l = xi + (zeta - xi) w_l``,
  ``w = softmax(kappa ||U_l^T x||^2)`` with Proposition 1's ``zeta, xi, kappa`` at the
  sample's ``sigma`` (the generated expressions of :mod:`molrg._generated`, the same ones
  :mod:`molrg.kernel` evaluates: one formula, one place).  One ``U`` shared by every noise
  level (``levels=None``) or one ``U`` per noise level of a grid (separate DAEs).
  ``U`` is kept orthonormal by a QR retraction after every optimiser step
  (:meth:`DAENet.retract`).
* :class:`MLPNet` -- a sigma-conditioned MLP of width ``width`` and ``depth`` hidden layers
  with EDM preconditioning (Karras et al. 2022): ``xhat = c_skip x + c_out F(c_in x, e(sigma))``.

``x`` is ``(B, n)``, ``sigma`` is ``(B,)`` (one level per sample).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from .. import _generated as gen


def _sign_fixed_qr(u: torch.Tensor) -> torch.Tensor:
    """The Q factor of ``u`` (``(..., n, r)``) with ``diag R >= 0`` (unique, continuous)."""
    q, r = torch.linalg.qr(u)
    s = torch.sign(torch.diagonal(r, dim1=-2, dim2=-1))
    s = torch.where(s == 0, torch.ones_like(s), s)
    return q * s[..., None, :]


class DAENet(nn.Module):
    """The eq.-4 DAE with a learnable orthonormal ``U`` (``(n, K d)``, or ``(L, n, K d)``).

    Parameters
    ----------
    init : ``(n, K d)`` initial basis (orthonormalised here).
    K : number of blocks; ``d = init.shape[1] // K``.
    delta : the detail-noise level in ``zeta, xi, kappa``.
    levels : ``None`` (one ``U`` for every ``sigma``) or the ``L`` noise levels of a grid
        (one ``U`` per level, each initialised with ``init``; a sample's ``sigma`` picks the
        nearest level in ``log sigma``).
    """

    def __init__(self, init: torch.Tensor, K: int, delta: float,
                 levels: tuple[float, ...] | None = None) -> None:
        super().__init__()
        self.K, self.delta = int(K), float(delta)
        self.d = init.shape[1] // self.K
        u = _sign_fixed_qr(init)
        if levels is not None:
            u = u[None].repeat(len(levels), 1, 1)
            self.register_buffer("log_levels", torch.log(torch.tensor(levels, dtype=init.dtype)))
        else:
            self.log_levels = None
        self.U = nn.Parameter(u.clone())

    @property
    def shared(self) -> bool:
        return self.log_levels is None

    def level_index(self, sigma: torch.Tensor) -> torch.Tensor:
        """``(B,)`` index of the grid level nearest to each ``sigma`` (log scale)."""
        assert self.log_levels is not None
        return torch.argmin(torch.abs(torch.log(sigma)[:, None] - self.log_levels[None, :]), dim=1)

    def forward(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        s = sigma.to(torch.float64)
        xi = gen.xi(None, s, self.delta).to(x.dtype)[:, None]
        zmx = gen.zeta_minus_xi(None, s, self.delta).to(x.dtype)[:, None]
        kappa = gen.kappa(None, s, self.delta).to(x.dtype)[:, None]
        B = x.shape[0]
        if self.shared:
            y = x @ self.U
        else:
            Ub = self.U[self.level_index(sigma)]  # (B, n, Kd)
            y = torch.bmm(x[:, None, :], Ub)[:, 0, :]
        blocks = y.reshape(B, self.K, self.d)
        r = (blocks * blocks).sum(-1)
        beta = xi + zmx * torch.softmax(kappa * r, dim=1)
        h = (blocks * beta[..., None]).reshape(B, self.K * self.d)
        if self.shared:
            return h @ self.U.T
        return torch.bmm(h[:, None, :], Ub.transpose(1, 2))[:, 0, :]

    @torch.no_grad()
    def retract(self) -> None:
        """Replace ``U`` by the Q factor of its QR decomposition (columns orthonormal again;
        the span of every leading set of columns, so block 1's subspace, is kept)."""
        self.U.copy_(_sign_fixed_qr(self.U))


class MLPNet(nn.Module):
    """A sigma-conditioned MLP denoiser (EDM preconditioning).

    ``xhat = c_skip x + c_out F([c_in x, e(sigma)])`` with ``c_skip = s^2 / (sigma^2 + s^2)``,
    ``c_out = sigma s / sqrt(sigma^2 + s^2)``, ``c_in = 1 / sqrt(sigma^2 + s^2)``, ``s`` the
    data's RMS per coordinate (``sigma_data``), ``e(sigma)`` = ``log(sigma) / 4`` and 8
    sine/cosine features of it.  ``F``: ``depth`` hidden layers of ``width`` units (SiLU).
    """

    FREQS = 8

    def __init__(self, n: int, width: int, depth: int, sigma_data: float,
                 dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.n = int(n)
        self.register_buffer("sigma_data", torch.tensor(float(sigma_data), dtype=dtype))
        layers: list[nn.Module] = []
        fan_in = n + 1 + 2 * self.FREQS
        for _ in range(depth):
            layers += [nn.Linear(fan_in, width, dtype=dtype), nn.SiLU()]
            fan_in = width
        layers.append(nn.Linear(fan_in, n, dtype=dtype))
        self.F = nn.Sequential(*layers)
        self.register_buffer("freqs", torch.arange(1, self.FREQS + 1, dtype=dtype) * (math.pi / 4))

    sigma_data: torch.Tensor
    freqs: torch.Tensor

    def embed(self, sigma: torch.Tensor) -> torch.Tensor:
        c = torch.log(sigma)[:, None] / 4
        return torch.cat([c, torch.sin(c * self.freqs), torch.cos(c * self.freqs)], dim=1)

    def forward(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        sd = self.sigma_data
        s = sigma.to(x.dtype)[:, None]
        norm = torch.sqrt(s * s + sd * sd)
        out = self.F(torch.cat([x / norm, self.embed(sigma.to(x.dtype))], dim=1))
        return (sd * sd / (norm * norm)) * x + (s * sd / norm) * out

    def retract(self) -> None:
        """Nothing to retract (the protocol of :class:`DAENet`)."""


def build(recipe: dict[str, Any], init: torch.Tensor | None = None) -> nn.Module:
    """The module a recipe describes (``init``: the DAE's initial basis; zeros on load)."""
    dtype = getattr(torch, recipe["dtype"])
    if recipe["architecture"] == "dae":
        if init is None:
            init = torch.eye(recipe["n"], recipe["K"] * recipe["d"], dtype=dtype)
        levels = None if recipe["share"] else tuple(recipe["levels"])
        return DAENet(init.to(dtype), recipe["K"], recipe["delta"], levels)
    return MLPNet(recipe["n"], recipe["width"], recipe["depth"], recipe["sigma_data"], dtype)
