"""molrg/_generated.py: the checked-in generated code is the derivation, evaluated exactly.

The numerical layer never imports SymPy: it evaluates ``molrg/_generated.py``, written by
``python -m molrg.symbolic`` from the derivation.  These tests regenerate it and compare,
check every generated function against ``lambdify`` of its expression, and run each one
on the strict array-API namespace.
"""

from __future__ import annotations

import inspect
import math
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import molrg
from molrg import _generated as gen
from molrg.symbolic import codegen
from tests.conftest import is_strict, to_numpy

ENTRIES = list(codegen.entries())
NAMES = [e.name for e in ENTRIES]
POINTS = 400


def _points() -> dict[str, np.ndarray]:
    """Random points over the box: sigma log-uniform in [1e-3, 1e2], K in [2, 16],
    d in [1, 64], delta in [0.05, 0.9]; the peak law's ``s = sigma^2``."""
    rng = np.random.default_rng(2025)
    sigma = np.exp(rng.uniform(math.log(1e-3), math.log(1e2), POINTS))
    out = {"sigma": sigma, "s": sigma**2, "K": rng.integers(2, 17, POINTS).astype(float),
           "d": rng.integers(1, 65, POINTS).astype(float),
           "delta": rng.uniform(0.05, 0.9, POINTS)}
    # the corrected form's racers Y = a chi2_nu + G_j and weight moments: theta inside the
    # domain of the cumulant generating function, theta < min(j, 1/(2a))
    a = np.exp(rng.uniform(math.log(1e-3), math.log(1e3), POINTS))
    j = rng.choice([1.0, 1.5, 2.0], POINTS)
    top = np.minimum(j, 0.5 / a)
    out.update(a=a, j=j, nu=rng.uniform(1, 600, POINTS),
               theta=top - np.exp(rng.uniform(math.log(1e-4), math.log(1e2), POINTS)),
               **{name: rng.uniform(0.0, 1.0, POINTS) for name in ("p1", "p2", "q1", "q2")})
    return out


VALUES = _points()


def _domain(entry: codegen.Entry) -> np.ndarray:
    """Where the expression is real: the peak law's Lambert-W arguments must be >= -1/e."""
    import array_api_compat.numpy as xnp

    ok = np.ones(POINTS, dtype=bool)
    if entry.name.endswith("_peak_law_refine") or entry.name.endswith("_peak_law_s0"):
        z_name = entry.name.replace("_refine", "_z_refine").replace("_s0", "_z0")
        ok &= np.asarray(gen.call(z_name, xnp, **VALUES)) >= -math.exp(-1.0)
    return ok


def test_checked_in_module_equals_the_regenerated_one() -> None:
    """Regenerate: ``python -m molrg.symbolic`` (``--check`` only compares)."""
    path = Path(molrg.__file__).with_name("_generated.py")
    assert path.read_text() == codegen.generate(), "stale: run python -m molrg.symbolic"


def test_registry_lists_every_function_with_its_signature() -> None:
    assert list(gen.ARGS) == NAMES
    for entry in ENTRIES:
        args = tuple(str(a) for a in entry.args)
        assert gen.ARGS[entry.name] == args
        assert tuple(inspect.signature(getattr(gen, entry.name)).parameters) == ("xp", *args)
    assert {e.name for e in ENTRIES if e.numpy_only} == gen.NUMPY_ONLY
    assert gen.MEAN_OF_RATIOS_MEAN_THRESHOLD == 2 and gen.MEAN_OF_RATIOS_VARIANCE_THRESHOLD == 4


@pytest.mark.parametrize("entry", ENTRIES, ids=NAMES)
def test_generated_function_agrees_with_lambdify_of_its_expression(entry: codegen.Entry) -> None:
    """1e-12 relative at 400 random points (where the expression is real).  The log-log
    slope ``dlogsnr_dlogsigma`` is dimensionless and vanishes at the peak: it is compared to
    1e-12 relative or 1e-12 absolute."""
    import array_api_compat.numpy as xnp

    ok = _domain(entry)
    assert ok.sum() > POINTS // 2
    args = [VALUES[str(a)][ok] for a in entry.args]
    got = np.broadcast_to(np.asarray(getattr(gen, entry.name)(xnp, *args), dtype=float),
                          (int(ok.sum()),))
    if entry.numpy_only:  # Lambert W, log Gamma, polygamma: SciPy's (real branch values)
        fn = sp.lambdify(entry.args, entry.expr, modules="scipy")
        want = np.real(fn(*args))
    else:
        want = codegen.lambdify_expr(entry.expr, xnp, args=entry.args)(*args)
    want = np.broadcast_to(np.asarray(want, dtype=float), got.shape)
    assert np.all(np.isfinite(got)) and np.all(np.isfinite(want))
    atol = 1e-12 if entry.name.endswith("dlogsnr_dlogsigma") else 0.0
    # the generated trigamma is a series accurate to 1e-10 (SciPy's polygamma is ~25x slower)
    rtol = 1e-10 if entry.expr.has(sp.polygamma) else 1e-12
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def test_generated_trigamma_matches_scipy() -> None:
    from scipy.special import polygamma

    x = np.geomspace(1e-3, 1e4, 2000)
    np.testing.assert_allclose(gen._trigamma(x), polygamma(1, x), rtol=1e-10)


@pytest.mark.parametrize("entry", [e for e in ENTRIES if not e.numpy_only],
                         ids=[e.name for e in ENTRIES if not e.numpy_only])
def test_generated_function_runs_on_array_api_strict(entry: codegen.Entry) -> None:
    """Same numbers on the strict namespace (no NumPy-only call in generated code)."""
    import array_api_compat.numpy as xnp
    import array_api_strict as xps

    ok = _domain(entry)
    args = [VALUES[str(a)][ok] for a in entry.args]
    want = getattr(gen, entry.name)(xnp, *args)
    got = getattr(gen, entry.name)(xps, *(xps.asarray(a) for a in args))
    if entry.args:
        assert is_strict(got)
    np.testing.assert_array_equal(to_numpy(got), np.asarray(want))


def test_call_picks_the_arguments_by_name() -> None:
    import array_api_compat.numpy as xnp

    values = {name: v[:5] for name, v in VALUES.items()}
    np.testing.assert_array_equal(
        gen.call("noisy_derived_snr", xnp, **values),
        gen.noisy_derived_snr(xnp, values["sigma"], values["K"], values["d"], values["delta"]))
    with pytest.raises(KeyError):
        gen.call("snr", xnp, **values)
