"""``verify mixtures`` without SymPy: its limits come from :mod:`molrg.mixture_limits`
(NumPy), held equal here to the symbolic derivation (:mod:`molrg.symbolic.mixture_limits`,
the independent check), and the command runs without importing SymPy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from molrg.mixture_limits import FAMILIES, mixture_limits

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("params", [
    {"delta": 0.2}, {"delta": 0.3, "pi0": 0.7, "d0": 4, "d1": 2, "angle_deg": 30.0, "d": 3},
    {"delta": 0.05, "pi0": 0.2, "d0": 10, "d1": 2, "angle_deg": 60.0, "d": 7}])
def test_numeric_limits_equal_the_symbolic_ones(family: str, params: dict) -> None:
    pytest.importorskip("sympy")
    from molrg.symbolic.mixture_limits import evaluate

    symbolic = evaluate(family, **{f"{k}_" if k != "angle_deg" else k: v
                                   for k, v in params.items()})
    numeric = mixture_limits(family, **params)
    assert set(numeric) == set(symbolic)
    for key, value in symbolic.items():
        assert numeric[key] == pytest.approx(value, rel=1e-12), key


def test_bad_family_is_a_parameter_error() -> None:
    from molrg import ParameterError

    with pytest.raises(ParameterError, match="family"):
        mixture_limits("nope", delta=0.2)


def test_verify_mixtures_runs_without_sympy() -> None:
    """``python -m verify mixtures`` (a quick run) never imports SymPy."""
    code = ("import sys\nfrom verify.cli import main\n"
            "status = main(['mixtures', '--angles', '90,30', '--angle-mode', 'all', "
            "'--samples', '1200', '--num-sigma', '8', '--quiet', '--exit-zero'])\n"
            "assert 'sympy' not in sys.modules, 'verify mixtures imported sympy'\n"
            "sys.exit(status)\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
