"""What the claim commands (``probe``, ``memorization``, ``mixtures``, ``separated``) share:
the result record, the validation of their sigma grid and tolerances, list parsing."""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, field
from typing import Any

from molrg import ParameterError
from molrg.validation import check_int, check_real

from .theorem1 import Claim

__all__ = ["ClaimsResult", "parse_floats", "validate_grid"]


def validate_grid(options: Any, *, peak_tol: bool = True) -> None:
    """Validate (and normalise) ``num_sigma``, ``sigma_min < sigma_max`` in ``[1e-4, 1e3]``,
    ``z >= 0`` and, if present, ``peak_tol >= 1`` of a frozen options dataclass."""
    object.__setattr__(options, "num_sigma", check_int("num_sigma", options.num_sigma, low=5,
                                                       high=10_000))
    lo = check_real("sigma_min", options.sigma_min, low=1e-4, high=1e3, open_low=False)
    hi = check_real("sigma_max", options.sigma_max, low=1e-4, high=1e3, open_high=False)
    if hi <= lo:
        raise ParameterError(f"sigma_max={hi!r} must exceed sigma_min={lo!r}")
    object.__setattr__(options, "sigma_min", lo)
    object.__setattr__(options, "sigma_max", hi)
    object.__setattr__(options, "z", check_real("z", options.z, low=0.0))
    if peak_tol:
        object.__setattr__(options, "peak_tol", check_real("peak_tol", options.peak_tol,
                                                           low=1.0))


def parse_floats(text: str, name: str) -> tuple[float, ...]:
    """``"90,60,30"`` -> ``(90.0, 60.0, 30.0)``, with an error naming ``name``."""
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise ParameterError(f"{name}={text!r} must be comma-separated numbers") from None
    if not values:
        raise ParameterError(f"{name}={text!r} is empty")
    return values


@dataclass(frozen=True)
class ClaimsResult:
    """A claim command's result: its options, per-setting runs (by task key), failed tasks,
    the analysis behind the claims, and the claims.  ``render``/``plot`` call the functions
    of the same names in the subclass's command module."""

    options: Any
    runs: dict[str, dict[str, Any]]
    failures: dict[str, dict[str, Any]]
    analysis: dict[str, Any]
    claims: list[Claim]
    elapsed_s: float = field(default=0.0)

    @property
    def verdict(self) -> str:
        return "holds" if all(c.holds for c in self.claims) and not self.failures else "deviates"

    def to_json(self) -> dict[str, Any]:
        return {"params": self.options.to_json(), "runs": self.runs, "failures": self.failures,
                "analysis": self.analysis, "claims": [asdict(c) for c in self.claims],
                "elapsed_s": self.elapsed_s}

    def render(self, *, table: bool = True) -> list[Any]:
        return sys.modules[type(self).__module__].render(self, table=table)  # type: ignore[no-any-return]

    def plot(self, path: str) -> None:
        sys.modules[type(self).__module__].plot(self, path)
