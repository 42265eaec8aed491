"""The package's public surface: curated ``__all__``, lazy loading (SPEC 1), no heavy
imports on the hot path."""

from __future__ import annotations

import subprocess
import sys

import molrg


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport sys\n"
                          "print(' '.join(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_every_public_name_resolves_and_is_listed() -> None:
    assert set(molrg.__all__) == {*molrg._LAZY, "__version__"}
    for name in molrg.__all__:
        assert getattr(molrg, name) is not None, name
    assert set(molrg.__all__) <= set(dir(molrg))


def test_import_molrg_loads_nothing_heavy_and_first_use_no_scipy_or_sympy() -> None:
    bare = _modules_after("import molrg")
    assert not {"numpy", "scipy", "sympy"} & bare
    used = _modules_after("import molrg, numpy as np\n"
                          "molrg.snr(molrg.MoLRG(3, 5, 50, 0.2), 0.5, "
                          "method=molrg.MonteCarlo('reduced', samples=200, seed=0))")
    assert "numpy" in used and not {"scipy", "sympy"} & used


def test_unknown_attribute_raises_attribute_error() -> None:
    try:
        molrg.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("molrg.no_such_name did not raise")
