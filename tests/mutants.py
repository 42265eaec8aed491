"""Planted bugs ("mutants"): each property suite must fail on the bug it guards against.

``python -m tests.mutants`` runs, for every mutant, its target tests in a subprocess with
``MOLRG_MUTANT=<name>`` (``conftest.py`` applies the patch before the tests import
anything) and reports whether the tests went red.  ``python -m tests.mutants NAME ...``
runs a subset; ``--list`` lists them.  The clean code must pass the same targets (the
runner checks that first).

A mutant is a plausible bug, not a random edit: the kind of mistake these tests exist for.
"""

from __future__ import annotations

import importlib
import inspect
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Mutant:
    name: str
    property: str
    description: str
    targets: tuple[str, ...]
    apply: Callable[[], None]


def _patch_source(module_name: str, qualname: str, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` (exactly one occurrence) in the source of the function
    ``qualname`` (``"f"`` or ``"Class.method"``) of ``module_name`` and install the
    recompiled function in its place.  A pattern that no longer matches (the code was
    rewritten) raises, so a stale mutant fails the lane loudly instead of passing as
    "caught"."""
    module = importlib.import_module(module_name)
    owner: Any = module
    *path, name = qualname.split(".")
    for part in path:
        owner = getattr(owner, part)
    source = textwrap.dedent(inspect.getsource(getattr(owner, name)))
    if source.count(old) != 1:
        raise RuntimeError(f"mutant pattern {old!r} occurs {source.count(old)} times in "
                           f"{module_name}.{qualname}; update tests/mutants.py")
    scope: dict[str, Any] = {}
    exec(compile(source.replace(old, new), f"<mutant of {module_name}.{qualname}>", "exec"),
         vars(module), scope)
    setattr(owner, name, scope[name])


def _wrap_coefficients(transform: Callable[[Any], Any]) -> None:
    """Patch the one place Proposition 1's coefficients come from (``molrg.kernel``; the
    denoisers and every simulator look it up there)."""
    from molrg import kernel

    original = kernel.coefficients

    def patched(sigma: Any, delta: float) -> Any:
        return transform(original(sigma, delta))

    kernel.coefficients = patched


def _wrong_xi() -> None:
    from molrg.kernel import Coefficients

    def transform(c: Any) -> Any:
        xi = c.xi ** 0.5  # delta / sqrt(delta^2 + sigma^2): a forgotten square
        return Coefficients(zeta=c.zeta, xi=xi, zeta_minus_xi=c.zeta - xi, kappa=c.kappa)

    _wrap_coefficients(transform)


def _install_softmax(softmax: Callable[..., Any]) -> None:
    """Replace the softmax the numerical core uses (``kernel.block_betas`` looks it up)."""
    from molrg import kernel

    kernel.softmax_weights = softmax


def _softmax_without_shift() -> None:
    from array_api_compat import array_namespace

    def softmax(logits: Any, axis: int = -1) -> Any:
        xp = array_namespace(logits)
        e = xp.exp(logits)
        return e / xp.sum(e, axis=axis, keepdims=True)

    _install_softmax(softmax)


def _peak_off_by_a_grid_step() -> None:
    import dataclasses

    import molrg
    from molrg import theory

    original = theory.peak

    def patched(*args: Any, **kwargs: Any) -> Any:
        p = original(*args, **kwargs)
        return dataclasses.replace(p, sigma=p.sigma * 30 ** (2 / 39)) if p.interior else p

    theory.peak = patched
    molrg.peak = patched


def _posterior_mean_delta_squared() -> None:
    import molrg
    from molrg import denoisers

    def patched(model: Any, x: Any, sigma: float) -> Any:
        from array_api_compat import array_namespace

        xp = array_namespace(x)
        basis = model.basis_in(xp, "float32" if x.dtype == xp.float32 else "float64")
        return denoisers.dae(x, sigma, basis=basis, K=model.K, delta=model.delta**2)

    denoisers.posterior_mean = patched
    molrg.posterior_mean = patched


def _kappa_typo() -> None:
    from molrg.kernel import Coefficients

    def transform(c: Any) -> Any:
        # a hand-typed kappa with delta^2 - sigma^2 for delta^2 + sigma^2:
        # kappa' = kappa (delta^2 + sigma^2) / (delta^2 - sigma^2), recovered from xi
        xi = c.xi  # delta^2 / (delta^2 + sigma^2)
        return Coefficients(zeta=c.zeta, xi=xi, zeta_minus_xi=c.zeta_minus_xi,
                            kappa=c.kappa * 1.0 / (2 * xi - 1))

    _wrap_coefficients(transform)


def _anisotropic_noise() -> None:
    from molrg import _backend

    original = _backend.Random.standard_normal

    def patched(self: Any, shape: tuple[int, ...], dtype: Any) -> Any:
        out = original(self, shape, dtype)
        if len(shape) == 2 and shape[1] > 16:  # the n-dimensional ambient noise
            xp = self.xp
            scale = xp.ones(shape[1], dtype=dtype)
            scale = xp.where(xp.arange(shape[1]) == 0, xp.asarray(3.0, dtype=dtype), scale)
            out = out * scale
        return out

    _backend.Random.standard_normal = patched


def _other_block_variance_delta() -> None:
    """The reduced simulator takes its block variances from ``_generated.FORMULAS`` (each
    input's ``variance_other``), looked up at call time."""
    import dataclasses

    from molrg import _generated

    for mode, table in list(_generated.FORMULAS.items()):
        original = table.variance_other

        def patched(xp: Any, original: Any = original, **values: Any) -> Any:
            # delta instead of delta^2 in the reduced simulator
            return original(xp, **dict(values, delta=values["delta"] ** 0.5))

        _generated.FORMULAS[mode] = dataclasses.replace(table, variance_other=patched)


def _saturated_logits() -> None:
    from molrg.kernel import Coefficients

    def transform(c: Any) -> Any:  # logits scaled 50x: the softmax saturates far too early
        return Coefficients(zeta=c.zeta, xi=c.xi, zeta_minus_xi=c.zeta_minus_xi,
                            kappa=50 * c.kappa)

    _wrap_coefficients(transform)


def _numpy_call_in_core() -> None:
    import numpy as np

    def softmax(logits: Any, axis: int = -1) -> Any:
        shifted = logits - np.max(logits, axis=axis, keepdims=True)  # NumPy-only call
        e = np.exp(shifted)
        return e / np.sum(e, axis=axis, keepdims=True)

    _install_softmax(softmax)


def _clip_delta() -> None:
    """``check_real`` is imported by name into every module that validates a real."""
    from molrg import denoisers, models, options, validation

    original = validation.check_real

    def patched(name: str, value: Any, **kw: Any) -> float:
        if name == "delta":
            try:
                return min(max(float(value), 1e-6), 1 - 1e-6)  # silently clipped
            except (TypeError, ValueError):
                pass
        return original(name, value, **kw)

    for module in (validation, models, denoisers, options):
        module.check_real = patched  # type: ignore[attr-defined]


def _theory_skips_array_checks() -> None:
    """Issue 11's bug: NumPy arrays skip the theory's sigma checks (NaN, -0.5 evaluated)."""
    import numpy as np

    from molrg import theory

    original = theory.check_sigma

    def patched(sigma: Any, name: str = "sigma") -> Any:
        return sigma if isinstance(sigma, np.ndarray) else original(sigma, name)

    theory.check_sigma = patched


def _grid_argmax_peak() -> None:
    """No refinement: each replicate's peak is its local grid's argmax (``snr_peak``
    maximises a spline with ``scipy.optimize.minimize_scalar``, looked up at call time)."""
    from types import SimpleNamespace

    import scipy.optimize

    def patched(fun: Callable[[float], float], bounds: tuple[float, float],
                **kwargs: Any) -> Any:
        mid = (bounds[0] + bounds[1]) / 2  # the grid point itself: bounds are its neighbours
        return SimpleNamespace(x=mid, fun=fun(mid))

    scipy.optimize.minimize_scalar = patched


# --------------------------------------------------------------------------------------
# Issue 19: the corrected form and the mixture posterior
# --------------------------------------------------------------------------------------
def _corrected_race_misses_a_competitor() -> None:
    """The corrected form's race counts ``K - 2`` competitors, not ``K - 1`` (the weight
    moments are taken for a model with one class fewer)."""
    from molrg import corrected
    from molrg.models import Setting

    original = corrected.weight_moments

    def patched(sigma: Any, setting: Any, input: str) -> Any:
        fewer = Setting(setting.K - 1, setting.d, setting.delta) if setting.K > 2 else setting
        return original(sigma, fewer, input)

    corrected.weight_moments = patched


def _corrected_without_lugannani_rice() -> None:
    """The saddle-point law of each racer loses its Lugannani-Rice term: ``F = Phi(w)``
    (the leading-order normal approximation of the signed deviance root)."""
    import numpy as np
    from scipy import special

    from molrg import corrected

    def patched(theta: Any, y: Any, a: Any, nu: Any, j: Any) -> Any:
        kt = corrected._cgf(theta, a, nu, j)
        k2 = corrected._cgf2(theta, a, nu, j)
        dev = np.maximum(2 * (theta * y - kt), 0.0)
        w = np.sign(theta) * np.sqrt(dev)
        F, S = special.ndtr(w), special.ndtr(-w)
        log_f = np.where(w < 0, np.log(np.maximum(F, 1e-300)),
                         np.log1p(-np.clip(S, 0, 1 - 1e-16)))
        log_s = np.where(w > 0, np.log(np.maximum(S, 1e-300)),
                         np.log1p(-np.clip(F, 0, 1 - 1e-16)))
        return log_f, log_s, -0.5 * dev - 0.5 * np.log(2 * np.pi * k2)

    corrected._lugannani_rice = patched


def _posterior_ignores_weights() -> None:
    """The mixture posterior uses uniform class weights whatever ``model.weights`` says."""
    import dataclasses

    import numpy as np

    from molrg import posterior

    original = posterior.structure

    def patched(model: Any) -> Any:
        st = original(model)
        return dataclasses.replace(st, log_weights=np.full(model.K, -np.log(model.K)))

    posterior.structure = patched


def _posterior_without_log_determinant() -> None:
    """The class logits lose ``-1/2 log det(sigma^2 I + Lambda_k)`` (the normalising
    constant of each class's Gaussian)."""
    import numpy as np

    from molrg import posterior

    original = posterior._sigma_terms

    def patched(st: Any, sigma: float, dtype_name: str) -> Any:
        terms = original(st, sigma, dtype_name)
        terms["const"] = terms["const"] + 0.5 * np.sum(np.log(sigma * sigma + st.lam), axis=1)
        return terms

    posterior._sigma_terms = patched


# --------------------------------------------------------------------------------------
# Issue 19 item 9: the empirical denoiser, the probes and the verify claim logic
# --------------------------------------------------------------------------------------
def _empirical_sigma_not_squared() -> None:
    """The empirical denoiser's logits divide by ``sigma`` instead of ``sigma^2``."""
    _patch_source("molrg.empirical", "EmpiricalDenoiser.__call__",
                  "inv_s2 = 1.0 / (s * s)", "inv_s2 = 1.0 / s")


def _empirical_drops_half_norms() -> None:
    """The GEMM form forgets ``-||p_i||^2 / 2``: the softmax ranks points by ``x . p_i``
    (an inner product) instead of by distance."""
    _patch_source("molrg.empirical", "EmpiricalDenoiser._block",
                  "logits -= half_s[None, j:stop]", "pass")


def _empirical_stale_rescale() -> None:
    """The streamed log-sum-exp rescales the running sum but not the running weighted sum
    when a later chunk raises the maximum."""
    _patch_source("molrg.empirical", "EmpiricalDenoiser._block",
                  "acc *= scale[:, None]", "pass")


def _probe_argmin_energy() -> None:
    """The projection probe picks the class of the smallest block energy."""
    _patch_source("molrg.probe_rules", "Rule.decide",
                  "return xp.argmax(self.energies(", "return xp.argmin(self.energies(")


def _probe_ratio_on_the_wrong_side() -> None:
    """The reduced probe simulator scales the competitors by ``rho`` instead of the true
    class (``v_own / v_other`` inverted)."""
    _patch_source("molrg.probe_sim", "reduced",
                  "chi[0, :] * rho > best_other", "chi[0, :] > best_other * rho")


def _verdict_undetermined_holds() -> None:
    """``verdict_of`` reports ``holds`` when a claim is undetermined."""
    _patch_source("verify.claims", "verdict_of",
                  'return "undetermined" if any(c.undetermined for c in claims) else "holds"',
                  'return "holds"')


def _combine_undetermined_holds() -> None:
    """``combine_verdicts`` folds ``undetermined`` into ``holds``."""
    _patch_source("verify.claims", "combine_verdicts",
                  'return "undetermined" if "undetermined" in verdicts else "holds"',
                  'return "holds"')


def _untrustworthy_top_level_only() -> None:
    """``ClaimsResult.untrustworthy`` sees only top-level ``"untrustworthy"`` flags of a run
    (the nested ones, e.g. ``run["snr"]["untrustworthy"]``, are ignored)."""
    _patch_source("verify.claims", "_flagged",
                  "elif _flagged(item):", "elif False:  # no recursion into nested records")


def _memorization_peak_tolerance_one_sided() -> None:
    """The memorisation claim's peak tolerance is one-sided: a peak far below the optimum's
    passes (``log ratio <= log peak_tol`` without the absolute value)."""
    _patch_source("verify.memorization", "evaluate_claims",
                  "ok_peak = abs(math.log(ratio)) <=", "ok_peak = math.log(ratio) <=")


MUTANTS = {m.name: m for m in [
    Mutant("wrong_xi", "1, 2a", "xi = delta/sqrt(delta^2+sigma^2) (a forgotten square)",
           ("tests/test_denoiser.py::test_posterior_mean_equals_brute_force_bayes",
            "tests/test_denoiser.py::test_dae_with_the_true_basis_is_the_optimal_denoiser"),
           _wrong_xi),
    Mutant("posterior_mean_delta_squared", "2b", "posterior_mean passes delta**2 for delta",
           ("tests/test_denoiser.py::test_no_other_orthonormal_basis_has_lower_denoising_loss",),
           _posterior_mean_delta_squared),
    Mutant("anisotropic_noise", "3", "ambient noise has variance 9 on coordinate 0",
           ("tests/test_properties.py::test_snr_is_invariant_to_rotation_embedding_and_relabelling",),
           _anisotropic_noise),
    Mutant("other_block_variance_delta", "3 (reduced exactness), 4",
           "reduced simulator uses delta instead of delta^2 for the other blocks",
           ("tests/test_properties.py::test_symbolic_limits_match_the_simulated_mean_of_ratios",
            "tests/test_properties.py::test_reduced_simulator_is_exact_against_ambient"),
           _other_block_variance_delta),
    Mutant("kappa_typo", "5", "kappa typed with delta^2 - sigma^2 for delta^2 + sigma^2",
           ("tests/test_properties.py::test_simulated_mean_of_ratios_curve_is_unimodal",
            "tests/test_properties.py::test_reduced_monte_carlo_agrees_with_quadrature"),
           _kappa_typo),
    Mutant("saturated_logits", "6", "logit coefficient kappa 50x too large",
           ("tests/test_properties.py::test_peak_location_follows_the_measured_relation_to_theorem1",),
           _saturated_logits),
    Mutant("peak_off_by_a_grid_step", "6", "theory peak shifted by two grid steps (x1.19)",
           ("tests/test_properties.py::test_peak_location_follows_the_measured_relation_to_theorem1",
            "tests/test_theory.py::test_root_found_peak_matches_dense_grid_argmax_on_200_cases"),
           _peak_off_by_a_grid_step),
    Mutant("grid_argmax_peak", "6 (peak refinement)", "simulated peak not refined below the grid",
           ("tests/test_analysis.py::test_snr_peak_refinement_recovers_the_theory_peak",
            "tests/test_analysis.py::test_snr_peak_standard_error_is_honest"),
           _grid_argmax_peak),
    Mutant("softmax_without_shift", "7a", "softmax without the max-shift (exp overflows)",
           ("tests/test_properties.py::test_float32_and_float64_agree_within_standard_error",
            "tests/test_denoiser.py::test_posterior_mean_is_finite_and_accurate_from_1e_minus_4_to_1e3"),
           _softmax_without_shift),
    Mutant("numpy_call_in_core", "7b", "a NumPy-only call in the shared code path",
           ("tests/test_properties.py::test_numpy_and_array_api_strict_give_identical_results",),
           _numpy_call_in_core),
    Mutant("clip_delta", "8", "delta silently clipped into (0, 1) instead of an error",
           ("tests/test_properties.py::test_every_invalid_input_raises_value_error",),
           _clip_delta),
    Mutant("theory_skips_array_checks", "8", "theory evaluates NumPy sigma arrays unchecked",
           ("tests/test_properties.py::test_every_invalid_input_raises_value_error",
            "tests/test_theory.py::test_theory_validates_sigma_on_every_path"),
           _theory_skips_array_checks),
    Mutant("corrected_race_misses_a_competitor", "corrected form",
           "the corrected form's race has K-2 competitors instead of K-1",
           ("tests/test_forms.py::test_corrected_form_tracks_the_exact_peak_where_the_derived_form_does_not",),
           _corrected_race_misses_a_competitor),
    Mutant("corrected_without_lugannani_rice", "corrected form",
           "saddle-point racer law without the Lugannani-Rice correction",
           ("tests/test_forms.py::test_corrected_form_tracks_the_exact_peak_where_the_derived_form_does_not",),
           _corrected_without_lugannani_rice),
    Mutant("posterior_ignores_weights", "mixture posterior",
           "class weights ignored (uniform prior) in the mixture posterior",
           ("tests/test_posterior.py::test_matches_exact_referee",),
           _posterior_ignores_weights),
    Mutant("posterior_without_log_determinant", "mixture posterior",
           "class logits without -1/2 log det(sigma^2 I + Lambda_k)",
           ("tests/test_posterior.py::test_matches_exact_referee",),
           _posterior_without_log_determinant),
    Mutant("empirical_sigma_not_squared", "empirical denoiser",
           "empirical denoiser logits divided by sigma, not sigma^2",
           ("tests/test_empirical.py::test_matches_dense_direct",),
           _empirical_sigma_not_squared),
    Mutant("empirical_drops_half_norms", "empirical denoiser",
           "empirical softmax ranks points by x.p (the -||p||^2/2 term dropped)",
           ("tests/test_empirical.py::test_matches_dense_direct",),
           _empirical_drops_half_norms),
    Mutant("empirical_stale_rescale", "empirical denoiser",
           "streamed log-sum-exp does not rescale the running weighted sum",
           ("tests/test_empirical.py::test_matches_dense_direct",),
           _empirical_stale_rescale),
    Mutant("probe_argmin_energy", "probes",
           "projection probe takes the class of the smallest energy",
           ("tests/test_probes.py::test_exact_bayes_accuracy_matches_the_projection_probe_on_simulated_features",),
           _probe_argmin_energy),
    Mutant("probe_ratio_on_the_wrong_side", "probes",
           "reduced probe scales the competitors by rho (v_own/v_other inverted)",
           ("tests/test_probes.py::test_exact_bayes_accuracy_matches_monte_carlo_of_the_same_probe",),
           _probe_ratio_on_the_wrong_side),
    Mutant("verdict_undetermined_holds", "verify claim logic",
           "verdict_of reports holds when a claim is undetermined",
           ("tests/test_claims.py::test_a_verdict_never_holds_on_an_undetermined_claim",),
           _verdict_undetermined_holds),
    Mutant("combine_undetermined_holds", "verify claim logic",
           "combine_verdicts folds undetermined into holds",
           ("tests/test_claims.py::test_combined_verdicts_never_hold_on_an_undetermined_part",),
           _combine_undetermined_holds),
    Mutant("untrustworthy_top_level_only", "verify claim logic",
           "ClaimsResult.untrustworthy ignores nested untrustworthy flags",
           ("tests/test_claims.py::test_a_claim_command_verdict_never_rests_on_untrustworthy_estimates",),
           _untrustworthy_top_level_only),
    Mutant("memorization_peak_tol_one_sided", "verify claim logic",
           "memorisation peak tolerance one-sided (a peak far below the optimum's passes)",
           ("tests/test_claims.py::test_memorization_peak_tolerance_is_two_sided",),
           _memorization_peak_tolerance_one_sided),
]}


def apply(name: str) -> None:
    """Apply mutant ``name`` (called by conftest when ``MOLRG_MUTANT`` is set)."""
    MUTANTS[name].apply()


NOT_A_TEST_FAILURE = (3, 4, 5)
"""pytest exit codes that are no test failing: internal error (a mutant whose patch raised in
``pytest_configure``), usage error, no tests collected (a stale target).  The lane reports
them as errors, never as "caught"."""


def _run(targets: tuple[str, ...], mutant: str | None) -> tuple[bool, float, str]:
    env = dict(os.environ, HYPOTHESIS_PROFILE="ci")
    env.pop("MOLRG_MUTANT", None)
    if mutant:
        env["MOLRG_MUTANT"] = mutant
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "--hypothesis-seed=0", *targets], env=env, capture_output=True,
                          text=True)
    failed = [line.split(" - ")[0].replace("FAILED ", "") for line in proc.stdout.splitlines()
              if line.startswith("FAILED")]
    if proc.returncode in NOT_A_TEST_FAILURE:  # e.g. the mutant's patch did not apply
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:]
        raise RuntimeError(f"pytest exited {proc.returncode} (not a test failure) for mutant "
                           f"{mutant!r}: {tail[0] if tail else ''}")
    return proc.returncode == 0, time.perf_counter() - start, ", ".join(failed)


def main(argv: list[str]) -> int:
    if "--list" in argv:
        for m in MUTANTS.values():
            print(f"{m.name:32s} property {m.property:24s} {m.description}")
        return 0
    names = [a for a in argv if not a.startswith("-")] or list(MUTANTS)
    ok = True
    print(f"{'mutant':32s} {'property':24s} {'clean':6s} {'caught':7s} by")
    for name in names:
        m = MUTANTS[name]
        try:
            clean, _, _ = _run(m.targets, None)
            passed, seconds, failed = _run(m.targets, name)
        except RuntimeError as exc:
            ok = False
            print(f"{name:32s} {m.property:24s} ERROR  {exc}")
            continue
        caught = not passed
        ok &= clean and caught
        print(f"{name:32s} {m.property:24s} {'pass' if clean else 'FAIL':6s} "
              f"{'yes' if caught else 'NO':7s} {failed or '-'} ({seconds:.0f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
