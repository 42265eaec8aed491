"""Issue 15 ("never silently wrong"): the reproducers, each with the guard that keeps it fixed.

1. float32 agrees with float64 within the error bars for every method, input, estimand
   and (with a DAE) both denominators, over the box down to ``delta = 0.01`` and SNR
   beyond 1e8; where float32 cannot hold (``sigma > FLOAT32_SIGMA_MAX``) it is refused
   before any work.
2. Peak memory (tracemalloc) of ``molrg.snr`` is flat in the number of noise levels and in
   the number of samples.
3-6. Exit codes, tracebacks, silently accepted input, rough edges: one test per reproducer.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import math
import re
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import molrg
from molrg.montecarlo import FLOAT32_SIGMA_MAX
from molrg.validation import SIGMA_MIN
from tests.conftest import examples, family_z
from verify import cli

QUADRATURE_BUILT = importlib.util.find_spec("molrg.quadrature") is not None


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(argv)
    return status, out.getvalue(), err.getvalue()


def assert_usage_error(argv: list[str], *names: str) -> str:
    """Exit 2, no traceback, and the message names each of ``names``."""
    status, _out, err = run_cli(argv)
    assert status == 2, (status, err)
    assert "Traceback" not in err, err
    for name in names:
        assert name in err, f"{name!r} not in {err!r}"
    return err


# ---------------------------------------------------------------------------------------
# 1. float32 against float64
# ---------------------------------------------------------------------------------------
SAMPLES = 2000
SIGMA_POINTS = 6


def _rotated(basis: np.ndarray, eps: float, seed: int) -> np.ndarray:
    """A nearby orthonormal basis: QR of ``U + eps G`` (leaves span(U) when n > K d)."""
    g = np.random.default_rng(seed).standard_normal(basis.shape)
    q, r = np.linalg.qr(basis + eps * g)
    return q * np.sign(np.diag(r))


def _cases(model: molrg.MoLRG, dae: molrg.DAE) -> list[dict[str, Any]]:
    """Every (method, input, estimand[, denominator]) combination of the check."""
    finite_variance = molrg.theory.mean_of_ratios_finite(model.setting, 2)
    estimands = molrg.ESTIMANDS if finite_variance else ("ratio-of-means",)
    out = [{"simulator": sim, "input": inp, "estimand": est, "denominator": "others",
            "denoiser": None}
           for sim in molrg.SIMULATORS for inp in molrg.INPUTS for est in estimands]
    out += [{"simulator": "ambient", "input": inp, "estimand": est, "denominator": den,
             "denoiser": dae}
            for inp in molrg.INPUTS for est in estimands for den in molrg.DENOMINATORS]
    def any_callable(x: Any, sigma: float) -> Any:  # the general simulator's path
        return molrg.posterior_mean(model, x, sigma)

    out += [{"simulator": "ambient", "input": inp, "estimand": "ratio-of-means",
             "denominator": "complement", "denoiser": any_callable} for inp in molrg.INPUTS]
    return out


CASES_PER_EXAMPLE = 18
BASE_EXAMPLES = 4
Z_DTYPES = family_z(comparisons_per_example=CASES_PER_EXAMPLE * SIGMA_POINTS,
                    base_examples=BASE_EXAMPLES)


@examples(BASE_EXAMPLES)
@given(K=st.integers(2, 10), d=st.integers(1, 8),
       log_delta=st.floats(math.log(0.01), math.log(0.9)), extra=st.integers(0, 4),
       log_sigma=st.floats(math.log(1e-30), math.log(FLOAT32_SIGMA_MAX)),
       seed=st.integers(0, 2**31 - 1))
def test_float32_agrees_with_float64_within_error_bars(K: int, d: int, log_delta: float,
                                                       extra: int, log_sigma: float,
                                                       seed: int) -> None:
    """Issue point 1's guard.  The noise levels: the derived approximation's peak for both
    inputs, 3x above it, both ends of the float32 range and one log-uniform between them;
    the SNR reaches ~1e9 at K=10, d=8, delta=0.01 (clean input)."""
    delta = math.exp(log_delta)
    model = molrg.MoLRG(K, d, K * d + extra, delta, seed=seed % 1000)
    st_ = model.setting
    peaks = [molrg.peak(st_, input=i, form="derived").sigma or delta for i in molrg.INPUTS]
    sigma = np.array(sorted({*peaks, 3 * max(peaks), math.exp(log_sigma), SIGMA_MIN,
                             FLOAT32_SIGMA_MAX}))
    dae = molrg.DAE(_rotated(model.basis, 0.05, seed), K=K, delta=delta)
    worst = (0.0, None)
    for case in _cases(model, dae):
        results = {}
        for dtype in molrg.DTYPES:
            mc = molrg.MonteCarlo(simulator=case["simulator"], samples=SAMPLES, seed=seed,
                                  dtype=dtype)
            results[dtype] = molrg.snr(model, sigma, input=case["input"],
                                       estimand=case["estimand"],
                                       denominator=case["denominator"],
                                       denoiser=case["denoiser"], method=mc)
        a, b = results["float32"], results["float64"]
        assert np.all(np.isfinite(a.estimate)) and np.all(np.isfinite(a.stderr)), case
        z = np.abs(a.estimate - b.estimate) / np.sqrt(a.stderr**2 + b.stderr**2 + 1e-300)
        if float(z.max()) > worst[0]:
            worst = (float(z.max()), {**case, "denoiser": case["denoiser"] is not None,
                                      "sigma": sigma[int(np.argmax(z))],
                                      "float32": a.estimate, "float64": b.estimate})
    assert worst[0] <= Z_DTYPES, worst


def _theorem1_json(tmp: Path, dtype: str, *extra: str) -> tuple[int, dict[str, Any]]:
    path = tmp / f"t1-{dtype}.json"
    status, _out, err = run_cli(["theorem1", "--K", "10", "--d", "8", "--n", "100",
                                 "--dtype", dtype, "--method", "ambient", "--input", "clean",
                                 "--quiet", "--json", str(path), *extra])
    assert "Traceback" not in err, err
    return status, json.loads(path.read_text())["modes"]["clean"]


REPLICATE_T = 5.0
"""Threshold for a difference of two replicate-based peak estimates: each standard error
comes from 8 replicates (7 degrees of freedom); |t_7| > 5 has probability ~0.002."""


def test_issue_reproducer_float32_ambient_delta_002_agrees_with_float64(tmp_path: Path) -> None:
    """``theorem1 --K 10 --d 8 --n 100 --delta 0.02 --dtype float32 --method ambient
    --samples 20000 --input clean --quiet`` reported a peak SNR of 6.68e7 where float64
    gives 1.79e7.  Measured now: 1.775e7 +- 2.6e5 (float32) vs 1.780e7 +- 4.4e5."""
    runs = {dt: _theorem1_json(tmp_path, dt, "--delta", "0.02", "--samples", "20000")
            for dt in ("float32", "float64")}
    (s32, a), (s64, b) = runs["float32"], runs["float64"]
    assert s32 == s64 and s32 in (1, 4)  # the same verdict in both dtypes (4: flagged)
    for key in ("peak_snr_simulated", "peak_sigma_simulated"):
        se = math.hypot(a[f"{key}_stderr"], b[f"{key}_stderr"])
        assert abs(a[key] - b[key]) <= REPLICATE_T * se, (key, a[key], b[key], se)
    assert 1e7 < a["peak_snr_simulated"] < 3e7


def test_issue_reproducer_delta_001_float32_does_not_blame_the_user(tmp_path: Path) -> None:
    """At ``--delta 0.01`` float32 exited 2 with "y must be finite ..." (a NaN curve)."""
    status, mode = _theorem1_json(tmp_path, "float32", "--delta", "0.01", "--samples",
                                  "5000", "--num-sigma", "20", "--replicates", "3")
    assert status in (0, 1, 4)
    assert all(v is not None and v > 0 for v in mode["snr_simulated"])
    assert mode["peak_snr_simulated"] > 1e8


def test_float32_beyond_its_range_is_refused_before_any_work() -> None:
    """Measured: noisy float32 energies (~ sigma^2 n) overflow near sigma = 1e18; up to
    FLOAT32_SIGMA_MAX = 1e15 float32 agrees with float64 (property above)."""
    model = molrg.MoLRG(3, 2, 8, 0.2)
    calls: list[int] = []
    for simulator in molrg.SIMULATORS:
        mc = molrg.MonteCarlo(simulator=simulator, samples=100, dtype="float32",
                              progress=lambda done, total: calls.append(done))
        with pytest.raises(molrg.ParameterError, match=r"sigma=.*float32"):
            molrg.snr(model, [0.5, 10 * FLOAT32_SIGMA_MAX], method=mc)
    assert calls == []  # refused before the first batch
    ok = molrg.snr(model, FLOAT32_SIGMA_MAX, method=molrg.MonteCarlo(
        simulator="reduced", samples=100, dtype="float32"))
    assert np.isfinite(ok.estimate)


# ---------------------------------------------------------------------------------------
# 2. Memory flat in the number of noise levels and of samples
# ---------------------------------------------------------------------------------------
BUDGET = 4 * 2**20
"""A 4 MiB budget (``MonteCarlo.memory``): batch and sigma-chunk sizes derive from it
exactly as from the default 64 MiB, and the test runs in a second instead of minutes."""
BOOKKEEPING_PER_SIGMA = 4096
"""Allowed growth per noise level: the per-sigma statistics (a few float64 per class and
chunk, and their Python objects) -- measured ~1.1 KiB; the bug was ~13 MB per level."""


def _peak_bytes(model: molrg.MoLRG, simulator: str, points: int, samples: int) -> int:
    mc = molrg.MonteCarlo(simulator=simulator, samples=samples, memory=BUDGET, seed=1)
    sigma = np.geomspace(0.05, 5.0, points)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        molrg.snr(model, sigma, method=mc)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("simulator", molrg.SIMULATORS)
def test_peak_memory_is_flat_in_sigma_points_and_samples(simulator: str) -> None:
    """Issue point 2's guard (it was 183 MB / 5.4 GB for 1 / 400 points).

    Batches hold ``batch`` samples (reduced: 21845, ambient: 3084 rows at 4 MiB); runs of
    2 and 6 batches must peak alike, and 400 noise levels no higher than one plus their
    bookkeeping.  Measured at 4 MiB: reduced 2.4 / 2.9 MiB, ambient 2.9 / 3.3 MiB."""
    model = molrg.MoLRG(3, 5, 50, 0.2)
    batch = molrg.snr(model, 1.0, method=molrg.MonteCarlo(
        simulator=simulator, samples=100, memory=BUDGET)).method.batch
    assert batch is not None
    one_short = _peak_bytes(model, simulator, 1, 2 * batch)
    one_long = _peak_bytes(model, simulator, 1, 6 * batch)
    many = _peak_bytes(model, simulator, 400, 2 * batch)
    assert one_long <= 1.05 * one_short + 64 * 2**10, (one_short, one_long)
    assert many <= one_short + 400 * BOOKKEEPING_PER_SIGMA, (one_short, many)
    assert max(one_short, one_long, many) <= BUDGET + 400 * BOOKKEEPING_PER_SIGMA


# ---------------------------------------------------------------------------------------
# 3. Exit codes
# ---------------------------------------------------------------------------------------
SMALL_T1 = ["theorem1", "--method", "reduced", "--samples", "20000", "--num-sigma", "8",
            "--replicates", "2", "--input", "noisy", "--quiet"]


def test_exit_codes_are_documented() -> None:
    doc = cli.__doc__ or ""
    for status in ("0", "1", "2", "3", "4"):
        assert re.search(rf"^\* {status} -- ", doc, re.M), status
    assert "--exit-zero" in cli.EPILOG


def test_deviation_exits_1_with_a_json_verdict_and_0_with_exit_zero(tmp_path: Path) -> None:
    """The Fig. 3 setting deviates (docs/results.md)."""
    path = tmp_path / "t1.json"
    status, _out, err = run_cli([*SMALL_T1, "--json", str(path)])
    assert status == 1, err
    assert json.loads(path.read_text())["verdict"] == "deviates"
    status, _out, _err = run_cli([*SMALL_T1, "--exit-zero"])
    assert status == 0


def test_an_internal_error_exits_3_with_traceback_and_summary(monkeypatch: Any) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError("planted")

    monkeypatch.setattr("verify.theorem1.run", broken)
    status, _out, err = run_cli(SMALL_T1)
    assert status == 3
    assert "Traceback" in err
    assert err.strip().splitlines()[-1].startswith("python -m verify theorem1: internal error: "
                                                  "ZeroDivisionError: planted")


def test_a_failed_task_of_a_sweep_exits_3_not_1(monkeypatch: Any) -> None:
    """A crashed task used to count as a deviation (exit 1)."""
    def broken(task: Any) -> Any:
        raise IndexError("planted")

    monkeypatch.setattr("verify.sweep._task", broken)
    status, _out, err = run_cli(["sweep", "--vary", "K", "--values", "2,3", "--method",
                                 "reduced", "--quiet"])
    assert status == 3
    assert "IndexError: planted" in err and "internal error" in err


def test_resume_refuses_the_json_of_a_different_run(tmp_path: Path) -> None:
    """Found by tests/test_fuzz_cli.py: ``--resume`` reused the results of a file written
    with other options (memorization: IndexError; probe: TypeError; or silently wrong)."""
    path = str(tmp_path / "sweep.json")
    argv = ["sweep", "--vary", "K", "--values", "2,3", "--method", "reduced", "--samples",
            "500", "--num-sigma", "5", "--input", "noisy", "--quiet", "--json", path]
    first = run_cli(argv)[0]
    assert first in (1, 4)  # 4: undetermined (500 samples are too few for a verdict)
    assert run_cli([*argv, "--resume"])[0] == first  # the same run resumes
    assert_usage_error([*argv[:-2], "--samples", "600", "--json", path, "--resume"], "--json")
    assert_usage_error(["survey", "--quiet", "--json", path, "--resume"], "--json")


# ---------------------------------------------------------------------------------------
# 4. Tracebacks found
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("replicates", ["0", "1"])
def test_replicates_below_two_are_refused(replicates: str) -> None:
    assert_usage_error([*SMALL_T1, "--replicates", replicates], "--replicates")


@pytest.mark.parametrize("path", ["/proc/x/y.json", "/proc/y.json"])
def test_unwritable_json_is_refused_before_the_run(path: str, monkeypatch: Any) -> None:
    calls: list[Any] = []
    monkeypatch.setattr("verify.theorem1.run", lambda *a, **k: calls.append(a))
    assert_usage_error([*SMALL_T1, "--json", path], "--json")
    assert calls == []


def test_unwritable_derive_markdown_is_refused_before_the_derivation(monkeypatch: Any) -> None:
    calls: list[Any] = []
    monkeypatch.setattr("verify.derive.markdown", lambda: calls.append(1) or "")
    assert_usage_error(["derive", "--markdown", "/proc/x/y.md"], "--markdown")
    assert calls == []


def test_posterior_mean_bad_inputs_raise_parameter_errors() -> None:
    model = molrg.MoLRG(3, 5, 50, 0.2)
    with pytest.raises(molrg.ParameterError, match=r"\bx\b"):
        molrg.posterior_mean(model, np.array(1.0), 0.3)
    with pytest.raises(molrg.ParameterTypeError, match="model"):
        molrg.posterior_mean(None, np.zeros((2, 50)), 0.3)


def test_peak_law_with_one_case_and_seed_2_runs_cleanly() -> None:
    """It raised IndexError (no interior peak for the noisy input), later warned."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        status, out, err = run_cli(["peak-law", "--cases", "1", "--seed", "2", "--quiet"])
    assert status == 0 and "Traceback" not in err and "Warning" not in err
    assert "noisy" in out and "clean" in out


# ---------------------------------------------------------------------------------------
# 5. Accepted silently
# ---------------------------------------------------------------------------------------
def test_proposition1_negative_tolerance_is_refused() -> None:
    assert_usage_error(["proposition1", "--tol", "-1"], "--tol")


def test_survey_zero_cases_is_refused() -> None:
    assert_usage_error(["survey", "--cases", "0"], "--cases")


def test_replicates_one_would_print_nan_errors_so_it_is_refused() -> None:
    assert_usage_error([*SMALL_T1, "--replicates", "1"], "--replicates", "[2,")


@pytest.mark.parametrize("bad", [0.5 + 0j, np.array([0.3, 0.4], dtype=complex), None])
def test_complex_or_missing_sigma_is_a_type_error(bad: Any) -> None:
    model = molrg.MoLRG(3, 2, 8, 0.3)
    mc = molrg.MonteCarlo(simulator="reduced", samples=100)
    for call in (lambda: molrg.snr(model, bad, method=mc),
                 lambda: molrg.approx_snr(bad, model.setting),
                 lambda: molrg.posterior_mean(model, np.zeros((2, 8)), bad)):
        with pytest.raises(molrg.ParameterTypeError, match="sigma"):
            call()


def test_complex_x_is_a_type_error() -> None:
    model = molrg.MoLRG(3, 2, 8, 0.3)
    with pytest.raises(molrg.ParameterTypeError, match=r"\bx\b"):
        molrg.posterior_mean(model, np.zeros((2, 8), dtype=complex), 0.3)


@pytest.mark.parametrize("sigma", [-1.0, -0.5, 0.0, math.nan, math.inf, -math.inf])
def test_approx_snr_refuses_non_positive_or_non_finite_sigma(sigma: float) -> None:
    """sigma = -1 gave the value at +1."""
    setting = molrg.Setting(3, 5, 0.2)
    for value in (sigma, np.array([0.5, sigma])):
        with pytest.raises(molrg.ParameterError, match="sigma"):
            molrg.approx_snr(value, setting)


def test_huge_samples_are_refused_before_any_work(monkeypatch: Any) -> None:
    """``--samples 1000000000000`` ran for weeks: refused above ``MAX_SAMPLES``."""
    from molrg.options import MAX_SAMPLES

    calls: list[Any] = []
    monkeypatch.setattr("verify.theorem1.run", lambda *a, **k: calls.append(a))
    err = assert_usage_error([*SMALL_T1, "--samples", "1000000000000"], "--samples")
    assert str(MAX_SAMPLES) in err and calls == []
    with pytest.raises(molrg.ParameterError, match="samples"):
        molrg.MonteCarlo(samples=MAX_SAMPLES + 1)


def test_a_grid_that_misses_the_peak_is_called_a_grid_problem() -> None:
    """It was reported as the theorem deviating (exit 1)."""
    err = assert_usage_error([*SMALL_T1, "--sigma-min", "5", "--sigma-max", "10"],
                             "--sigma-min", "--sigma-max")
    assert "grid" in err


@pytest.mark.skipif(not QUADRATURE_BUILT, reason="molrg.quadrature is being written")
def test_a_grid_that_misses_the_exact_peak_is_called_a_grid_problem() -> None:
    err = assert_usage_error(["theorem1", "--sigma-min", "5", "--sigma-max", "10", "--quiet"],
                             "--sigma-min")
    assert "grid" in err


def test_sweep_validates_every_value_before_computing_any(monkeypatch: Any) -> None:
    """``sweep --vary K --values 2,3,25`` computed 2 and 3, then failed on 25."""
    calls: list[Any] = []
    monkeypatch.setattr("verify.sweep.parallel.map_tasks", lambda *a, **k: calls.append(a))
    err = assert_usage_error(["sweep", "--vary", "K", "--values", "2,3,25", "--method",
                              "ambient", "--quiet"], "--values", "25")
    assert calls == []
    assert "K*d" in err


# ---------------------------------------------------------------------------------------
# 6. Rough edges
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("argv", [SMALL_T1, ["sweep", "--vary", "K", "--values", "2"],
                                  ["survey"], ["peak-law"], ["proposition1"]],
                         ids=lambda a: a[0])
def test_negative_seed_names_the_option(argv: list[str]) -> None:
    assert_usage_error([*argv, "--seed", "-1"], "--seed")


class _TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("argv", [
    ["theorem1", "--method", "reduced", "--samples", "500", "--num-sigma", "5",
     "--replicates", "2", "--input", "noisy"],
    ["sweep", "--vary", "K", "--values", "2,3", "--method", "reduced", "--samples", "500",
     "--num-sigma", "5", "--input", "noisy"],
    ["survey", "--cases", "1", "--samples", "500", "--num-sigma", "5", "--replicates", "2"],
], ids=lambda a: a[0])
def test_progress_goes_to_stderr_not_stdout(argv: list[str]) -> None:
    """survey wrote its carriage-return progress to stdout.  Progress is drawn only on a
    terminal: stderr pretends to be one here, stdout is a pipe."""
    out, err = io.StringIO(), _TTY()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(argv)
    if argv[0] != "survey" or QUADRATURE_BUILT:
        assert status in (0, 1, 4), err.getvalue()
    assert "\r" not in out.getvalue()
    if status in (0, 1):
        assert "\r" in err.getvalue() or "━" in err.getvalue()  # rich draws bars on stderr


def _parsers() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {"": parser, **sub.choices}


@pytest.mark.parametrize("command", sorted(_parsers()))
def test_help_has_no_raw_rst_and_every_option_has_help(command: str) -> None:
    parser = _parsers()[command]
    text = parser.format_help()
    assert "`" not in text, [line for line in text.splitlines() if "`" in line]
    for action in parser._actions:
        if action.option_strings:
            assert action.help and action.help != argparse.SUPPRESS, action.option_strings


def test_plot_without_extension_is_refused(tmp_path: Path, monkeypatch: Any) -> None:
    calls: list[Any] = []
    monkeypatch.setattr("verify.theorem1.run", lambda *a, **k: calls.append(a))
    assert_usage_error([*SMALL_T1, "--plot", str(tmp_path / "name")], "--plot", ".png")
    assert calls == []


def test_commands_without_figures_do_not_offer_plot() -> None:
    """``proposition1 --plot x.png`` and ``peak-law --plot x.png`` crashed (no figure)."""
    for command in ("proposition1", "peak-law", "derive"):
        assert_usage_error([command, "--plot", "x.png"], "--plot")


def test_validation_is_fast_before_work() -> None:
    """Every refusal above is immediate: no run starts before its options are checked."""
    start = time.perf_counter()
    assert_usage_error([*SMALL_T1, "--samples", str(10**12)], "--samples")
    assert time.perf_counter() - start < 1.0
