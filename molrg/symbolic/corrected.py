"""The corrected approximation of the exact SNR (placeholder until derived)."""

from __future__ import annotations

import sympy as sp

__all__ = ["EXTRA_ARGS", "generated_pieces"]

EXTRA_ARGS: tuple[sp.Symbol, ...] = ()


def generated_pieces(mode: str) -> dict[str, sp.Expr]:
    """Expressions of the corrected form that the code generator emits."""
    return {}


def markdown() -> str:
    """The corrected form's section of docs/math.md."""
    return ""
