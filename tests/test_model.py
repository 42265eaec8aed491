"""molrg.models: Setting and MoLRG -- validation, bases, sampling."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import molrg
from tests.conftest import examples, family_z, is_strict, to_numpy
from tests.strategies import invalid_d, invalid_deltas, invalid_K, model_params, seeds


def _names(exc: pytest.ExceptionInfo, name: str, value: object, valid: str) -> None:
    msg = str(exc.value)
    assert name in msg
    assert valid in msg, msg
    if not (isinstance(value, float) and math.isnan(value)):
        assert repr(value) in msg or str(value) in msg, msg


@examples(10)
@given(delta=invalid_deltas, make=st.sampled_from(["model", "setting"]))
def test_invalid_delta_raises_naming_delta_and_range(delta: float, make: str) -> None:
    with pytest.raises(molrg.ParameterError) as exc:
        molrg.MoLRG(3, 2, 10, delta) if make == "model" else molrg.Setting(3, 2, delta)
    _names(exc, "delta", delta, "(0, 1)")


@examples(5)
@given(K=invalid_K, make=st.sampled_from(["model", "setting"]))
def test_K_below_two_raises(K: int, make: str) -> None:
    with pytest.raises(molrg.ParameterError) as exc:
        molrg.MoLRG(K, 2, 10, 0.2) if make == "model" else molrg.Setting(K, 2, 0.2)
    _names(exc, "K", K, "[2, inf)")


@examples(5)
@given(d=invalid_d, make=st.sampled_from(["model", "setting"]))
def test_d_below_one_raises(d: int, make: str) -> None:
    with pytest.raises(molrg.ParameterError) as exc:
        molrg.MoLRG(3, d, 10, 0.2) if make == "model" else molrg.Setting(3, d, 0.2)
    _names(exc, "d", d, "[1, inf)")


@pytest.mark.parametrize("bad", [None, "3", 2.5, 3 + 0j, True])
def test_wrongly_typed_K_raises_a_parameter_error(bad: object) -> None:
    """Non-integers are refused (``TypeError`` too for values of the wrong kind)."""
    with pytest.raises(molrg.ParameterError, match="K="):
        molrg.Setting(bad, 2, 0.2)  # type: ignore[arg-type]
    if not isinstance(bad, float):
        with pytest.raises(TypeError):
            molrg.Setting(bad, 2, 0.2)  # type: ignore[arg-type]


def test_setting_holds_the_validated_parameters_and_models_expose_theirs() -> None:
    s = molrg.Setting(3.0, 5, 0.2)  # type: ignore[arg-type]
    assert (s.K, s.d, s.delta) == (3, 5, 0.2) and isinstance(s.K, int)
    assert s.setting is s and s.to_json() == {"K": 3, "d": 5, "delta": 0.2}
    m = molrg.MoLRG(3, 5, 50, 0.2)
    assert m.setting == s
    assert len(m.bases) == 3 and all(b.shape == (50, 5) for b in m.bases)
    np.testing.assert_array_equal(np.concatenate(m.bases, axis=1), m.basis)


def test_K_times_d_above_n_raises() -> None:
    with pytest.raises(ValueError, match=re.escape("K*d=40 exceeds n=39; valid: K*d <= n")):
        molrg.MoLRG(4, 10, 39, 0.2)


def test_non_orthonormal_basis_raises() -> None:
    basis = np.eye(10, 6)
    basis[0, 1] = 0.1
    with pytest.raises(ValueError, match=r"basis is not orthonormal.*valid"):
        molrg.MoLRG(3, 2, 10, 0.2, basis=basis)


def test_basis_of_wrong_shape_raises() -> None:
    with pytest.raises(ValueError, match=r"basis has shape \(10, 5\); valid: \(n, K\*d\)"):
        molrg.MoLRG(3, 2, 10, 0.2, basis=np.eye(10, 5))


def test_unknown_basis_kind_raises() -> None:
    with pytest.raises(ValueError, match=r"kind='haar'.*'random', 'canonical'"):
        molrg.MoLRG(3, 2, 10, 0.2, kind="haar")


def test_canonical_basis_is_the_first_coordinate_vectors() -> None:
    m = molrg.MoLRG(3, 2, 10, 0.2, kind="canonical")
    np.testing.assert_array_equal(m.basis, np.eye(10, 6))
    np.testing.assert_array_equal(m.block(1), np.eye(10, 6)[:, 2:4])


@examples(10)
@given(params=model_params(n_max=128))
def test_random_basis_is_orthonormal_and_reproducible(params: dict) -> None:
    m = molrg.MoLRG(**params)
    np.testing.assert_allclose(m.basis.T @ m.basis, np.eye(m.rank), atol=1e-12)
    np.testing.assert_array_equal(m.basis, molrg.MoLRG(**params).basis)
    assert not m.basis.flags.writeable


def test_embedded_and_rotated_models_keep_orthonormality(rng: np.random.Generator) -> None:
    m = molrg.MoLRG(3, 2, 8, 0.3)
    big = m.embedded(20)
    assert big.n == 20 and np.all(big.basis[8:] == 0)
    q, _ = np.linalg.qr(rng.standard_normal((8, 8)))
    rot = m.rotated(q)
    np.testing.assert_allclose(rot.basis.T @ rot.basis, np.eye(6), atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sample_shapes_dtypes_and_namespace(backend: str, dtype: str) -> None:
    m = molrg.MoLRG(3, 2, 12, 0.3)
    x0, labels = m.sample(50, 0, xp=backend, dtype=dtype)
    assert x0.shape == (50, 12) and labels.shape == (50,)
    assert dtype in str(x0.dtype)
    assert is_strict(x0) == (backend == "array_api_strict")


# 3 class counts and 3 x 6 coordinate variances per example (family-wise 1%)
Z_SAMPLES = family_z(comparisons_per_example=21, base_examples=5)


@examples(5)
@given(seed=seeds)
def test_samples_have_the_model_class_covariances(seed: int) -> None:
    """Within class k: Cov(U^T x0) = diag(1 on block k, delta^2 elsewhere); classes are
    uniform (binomial counts); x0 lies in span(U)."""
    m = molrg.MoLRG(3, 2, 9, 0.4, seed=seed % 1000)
    x0, labels = m.sample(30_000, seed)
    x0, labels = np.asarray(x0), np.asarray(labels)
    counts = np.bincount(labels, minlength=3)
    assert np.all(np.abs(counts - 10_000) < Z_SAMPLES * math.sqrt(30_000 * (1 / 3) * (2 / 3)))
    for k in range(3):
        z = x0[labels == k] @ m.basis
        expect = np.full(6, 0.4**2)
        expect[2 * k:2 * k + 2] = 1.0
        var = z.var(axis=0)
        se = expect * math.sqrt(2 / len(z))
        assert np.all(np.abs(var - expect) < Z_SAMPLES * se), (var, expect)
        assert np.allclose(x0[labels == k] @ (np.eye(9) - m.basis @ m.basis.T), 0, atol=1e-12)


def test_sample_rejects_non_positive_num() -> None:
    with pytest.raises(ValueError, match=r"num=0 is out of range; valid: \[1, inf\)"):
        molrg.MoLRG(3, 2, 9, 0.4).sample(0)


def test_sample_with_unknown_backend_raises() -> None:
    with pytest.raises(molrg.ParameterError, match="backend='torch' is not a known backend; valid"):
        molrg.MoLRG(3, 2, 9, 0.4).sample(2, 0, xp="torch")


def test_sample_is_reproducible_for_a_seed_on_both_namespaces() -> None:
    m = molrg.MoLRG(3, 2, 9, 0.4)
    a, la = m.sample(20, 7)
    b, lb = m.sample(20, 7, xp="array_api_strict")
    np.testing.assert_array_equal(a, to_numpy(b))
    np.testing.assert_array_equal(la, to_numpy(lb))


def test_replace_keeps_the_other_parameters() -> None:
    m = molrg.MoLRG(3, 2, 9, 0.4, seed=5)
    r = m.replace(delta=0.3)
    assert (r.K, r.d, r.n, r.delta, r.seed) == (3, 2, 9, 0.3, 5)
    np.testing.assert_array_equal(r.basis, m.basis)  # same seed, same basis
    with pytest.raises(molrg.ParameterError, match="delta"):
        m.replace(delta=2.0)


# ---------------------------------------------------------------------------------------
# Capabilities (issue 19): what planners ask a model or denoiser instead of its class
# ---------------------------------------------------------------------------------------
def test_every_model_answers_the_model_protocol_consistently():
    from molrg.models import Model, check_model

    setting = molrg.Setting(3, 2, 0.3)
    ideal = molrg.MoLRG(3, 2, 12, 0.3)
    mix = ideal.to_mixture()
    for model in (setting, ideal, mix):
        assert isinstance(model, Model)
        assert check_model(model) is model
        assert model.total_rank == 6
        assert np.allclose(model.weights, 1 / 3)
    assert setting.setting == ideal.setting == setting and mix.setting is None
    assert (setting.ambient, ideal.ambient, mix.ambient) == (False, True, True)
    assert setting.dae_parameters is None and mix.dae_parameters is None
    params = ideal.dae_parameters
    assert params.K == 3 and params.delta == 0.3 and params.rank == 6
    assert np.array_equal(params.basis, ideal.basis)
    with pytest.raises(molrg.ParameterTypeError, match="ambient"):
        check_model(setting, ambient=True)
    with pytest.raises(molrg.ParameterTypeError, match="model="):
        check_model(object())
    with pytest.raises(molrg.ParameterError, match="no ambient"):
        setting.to_mixture()


def test_denoiser_capabilities_are_asked_not_tested_by_class():
    from molrg.denoisers import check_denoiser, dae_parameters_of, is_optimal

    model = molrg.MoLRG(3, 2, 12, 0.3)
    optimal = molrg.OptimalDenoiser(model)
    dae = molrg.DAE(model.basis, 3, 0.3)

    def plain(x, sigma):
        return x

    assert is_optimal(model, None) and is_optimal(model, optimal)
    assert not is_optimal(model.replace(seed=1), optimal)  # another model's optimum
    assert not is_optimal(model, dae) and not is_optimal(model, plain)
    assert dae_parameters_of(model, None).K == 3
    assert dae_parameters_of(model, dae).delta == 0.3
    assert dae_parameters_of(model, optimal) is not None
    assert dae_parameters_of(model, plain) is None
    assert dae_parameters_of(model.to_mixture(), molrg.OptimalDenoiser(model.to_mixture())) is None
    check_denoiser(model, dae)
    with pytest.raises(molrg.ParameterError, match="n=12"):
        check_denoiser(model.embedded(20), dae)
    with pytest.raises(molrg.ParameterTypeError, match="callable"):
        check_denoiser(model, 3)
