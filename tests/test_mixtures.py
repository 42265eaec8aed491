"""LowRankMixture: validation, structure, constructors and sampling statistics."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import stats
from scipy.linalg import subspace_angles

from molrg._backend import namespace
from molrg.mixtures import LowRankMixture, from_molrg, separated, two_subspaces, unequal_ranks
from molrg.models import haar_basis
from tests import reference_mixture as dense_bayes
from tests.conftest import to_numpy

ALPHA = 1e-6  # false-alarm rate of each statistical check (Bonferroni-corrected inside)


def _bases(n: int = 6, ranks: tuple[int, ...] = (2, 1, 3), seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [haar_basis(n, d, rng) for d in ranks]


# ---------------------------------------------------------------------------- validation
BAD_MODELS = [
    ({"bases": np.eye(4)}, r"bases=ndarray\(4, 4\) is not valid"),
    ({"bases": "abc"}, "bases="),
    ({"bases": 3}, "bases=int"),
    ({"bases": [np.eye(4, 2)]}, r"bases has K=1 entries; valid: K >= 2"),
    ({"bases": [np.eye(4, 2), np.eye(5, 2)]}, r"bases\[1\] has n=5 rows; valid: n=4"),
    ({"bases": [np.eye(4, 2), np.ones(4)]}, r"bases\[1\] has shape \(4,\)"),
    ({"bases": [np.eye(4, 2), np.ones((2, 3))]}, r"bases\[1\] has shape"),
    ({"bases": [np.eye(4, 2), np.zeros((4, 0))]}, r"bases\[1\] has shape \(4, 0\)"),
    ({"bases": [np.eye(4, 2), np.full((4, 1), np.nan)]}, r"bases\[1\] has non-finite"),
    ({"bases": [np.eye(4, 2), np.eye(4, 1), 1.3 * np.eye(4, 1)]},
     r"bases\[2\] is not orthonormal: max\|U\^T U - I\| = 0.69; valid: <= 1e-08"),
    ({"bases": [np.eye(4, 2), [["a"] * 1] * 4]}, r"bases\[1\] must be a real array"),
    ({"delta": -0.1}, r"delta=-0.1 is out of range; valid: \[0, inf\)"),
    ({"delta": float("nan")}, "delta=nan"),
    ({"delta": float("inf")}, "delta=inf"),
    ({"delta": "x"}, "delta='x' must be a real number"),
    ({"weights": [0.5, 0.5]}, r"weights has shape \(2,\); valid: \(K,\) = \(3,\)"),
    ({"weights": [0.5, 0.6, -0.1]}, r"weights contains -0.1; valid: every weight finite and > 0"),
    ({"weights": [0.5, 0.5, 0.0]}, r"weights contains 0.0"),
    ({"weights": [0.5, np.nan, 0.5]}, "weights contains nan"),
    ({"weights": [0.5, 0.3, 0.3]}, r"weights sums to 1.1.*; valid: 1 within 3e-12"),
    ({"weights": [1 / 3, 1 / 3, 1 / 3 + 1e-10]}, "weights sums to"),
    ({"means": np.zeros((3, 5))}, r"means has shape \(3, 5\); valid: \(K, n\) = \(3, 4\)"),
    ({"means": np.full((3, 4), np.inf)}, "means has non-finite"),
]


@pytest.mark.parametrize(("kwargs", "match"), BAD_MODELS)
def test_validation_names_the_parameter(kwargs: dict, match: str) -> None:
    args = {"bases": [np.eye(4, 2), np.eye(4)[:, 2:3], np.eye(4)[:, 3:]], "delta": 0.1}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        LowRankMixture(args.pop("bases"), **args)


def test_valid_edge_cases_are_accepted() -> None:
    b = [np.eye(4, 2), np.eye(4)[:, 2:3], np.eye(4)[:, 3:]]
    LowRankMixture(b, delta=0.0, weights=[1 / 3, 1 / 3, 1 / 3 + 1e-13])
    LowRankMixture(b, delta=2.0)  # delta > 1 is a valid (if unusual) model
    LowRankMixture(np.stack([np.eye(4, 2), np.eye(4, 2)]))  # (K, n, d) array: K equal-rank bases
    LowRankMixture([np.eye(4), np.eye(4)])  # full-rank classes
    LowRankMixture([b[0] + 1e-9, b[1]])  # orthonormal within tolerance


@pytest.mark.parametrize(("call", "match"), [
    (lambda: two_subspaces(10, 3, 91.0), r"angle_deg=91.0 is out of range; valid: \[0, 90\]"),
    (lambda: two_subspaces(10, 3, -1.0), "angle_deg"),
    (lambda: two_subspaces(5, 3, 30.0), r"n=5 is out of range; valid: \[6, inf\)"),
    (lambda: two_subspaces(10, 0, 30.0), "d=0"),
    (lambda: unequal_ranks(10, (10,), 0.1), "ranks="),
    (lambda: unequal_ranks(10, (10, 2), 0.1), r"n=10 is out of range; valid: \[12, inf\)"),
    (lambda: unequal_ranks(20, (10, 0), 0.1), r"ranks\[1\]=0"),
    (lambda: unequal_ranks(20, (10, 2), -0.1), "delta"),
    (lambda: from_molrg(3, 2, 5, 0.2), r"K\*d=6 exceeds n=5"),
    (lambda: from_molrg(1, 2, 5, 0.2), "K=1"),
    (lambda: from_molrg(2, 2, 5, 0.2, kind="x"), "kind='x'"),
    (lambda: from_molrg(2, 2, 5, 0.2, basis=np.ones((5, 4))), "basis is not orthonormal"),
    (lambda: from_molrg(2, 2, 5, 0.2, basis=np.eye(5, 3)), r"basis has shape \(5, 3\)"),
    (lambda: separated(3, 2, 8, 1.0), r"n=8 is out of range; valid: \[9, inf\)"),
    (lambda: separated(3, 2, 20, -1.0), "mean_scale=-1.0"),
    (lambda: separated(3, 2, 20, 1.0, placement="x"), "placement='x'"),
])
def test_constructor_validation(call, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(("call", "match"), [
    (lambda m: m.sample(0), r"m=0 is out of range; valid: \[1, inf\)"),
    (lambda m: m.sample(3, dtype="int32"), "dtype='int32'"),
    (lambda m: m.sample(3, xp="torch"), "xp='torch'"),
    (lambda m: m.sample_class(3, 5), r"k=3 is out of range; valid: \[0, 2\]"),
    (lambda m: m.sample_class(0, -1), "m=-1"),
    (lambda m: m.block_slice(-1), "k=-1"),
    (lambda m: m.scales(5), "k=5"),
    (lambda m: m.replace(foo=1), "changes has unknown keys"),
])
def test_method_validation(call, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=match):
        call(LowRankMixture(_bases(), delta=0.2))


# ---------------------------------------------------------------------------- structure
def test_properties_and_immutability() -> None:
    bases = _bases()
    model = LowRankMixture(bases, delta=0.3, weights=[0.5, 0.3, 0.2])
    assert (model.K, model.n, model.ranks, model.total_rank) == (3, 6, (2, 1, 3), 6)
    np.testing.assert_array_equal(model.basis, np.concatenate(bases, axis=1))
    np.testing.assert_array_equal(model.scales(1), [0.3, 0.3, 1, 0.3, 0.3, 0.3])
    assert model.block_slice(2) == slice(3, 6)
    assert not model.has_means and model.means.shape == (3, 6)
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.delta = 0.5  # type: ignore[misc]
    for arr in (model.basis, model.weights, model.means, *model.bases):
        assert not arr.flags.writeable
    assert model.basis_in("numpy") is model.basis_in("numpy")
    b32 = model.basis_in("numpy", "float32")
    assert b32.dtype == np.float32 and b32 is model.basis_in("numpy", "float32")
    assert "ranks=(2, 1, 3)" in repr(model)
    assert model.replace(delta=0.1).delta == 0.1


def test_covariance_matches_definition() -> None:
    bases = _bases()
    model = LowRankMixture(bases, delta=0.4)
    for k in range(3):
        np.testing.assert_allclose(model.covariance(k), dense_bayes.class_covariance(bases, 0.4, k),
                                   atol=1e-14, rtol=0)


# ---------------------------------------------------------------------------- constructors
@pytest.mark.parametrize("angle", [0.0, 1.0, 30.0, 45.0, 89.0, 90.0])
@pytest.mark.parametrize("d", [1, 3, 5])
def test_two_subspaces_principal_angles(angle: float, d: int) -> None:
    model = two_subspaces(2 * d + 7, d, angle, delta=0.2, seed=d)
    got = subspace_angles(model.bases[0], model.bases[1])
    np.testing.assert_allclose(got, np.full(d, np.deg2rad(angle)), atol=1e-7, rtol=0)
    np.testing.assert_allclose(model.bases[0].T @ model.bases[1], np.cos(np.deg2rad(angle)) * np.eye(d),
                               atol=1e-13)


def test_unequal_ranks_are_orthogonal() -> None:
    model = unequal_ranks(50, (10, 2), 0.2, weights=[0.8, 0.2], seed=1)
    assert model.ranks == (10, 2)
    np.testing.assert_allclose(model.basis.T @ model.basis, np.eye(12), atol=1e-13)


def test_from_molrg_matches_molrg_basis() -> None:
    molrg = pytest.importorskip("molrg")
    ideal = molrg.MoLRG(3, 5, 50, 0.2, seed=4)
    a = from_molrg(3, 5, 50, 0.2, seed=4)
    b = from_molrg(ideal.K, ideal.d, ideal.n, ideal.delta, ideal.basis)
    np.testing.assert_array_equal(a.basis, ideal.basis)
    np.testing.assert_array_equal(b.basis, ideal.basis)
    assert a.ranks == (5, 5, 5) and np.allclose(a.weights, 1 / 3)
    c = from_molrg(2, 2, 5, 0.1, kind="canonical")
    np.testing.assert_array_equal(c.basis, np.eye(5, 4))


@pytest.mark.parametrize("placement", ["orthogonal", "subspace"])
def test_separated_means(placement: str) -> None:
    model = separated(3, 2, 12, 4.0, delta=0.1, placement=placement, seed=2)
    np.testing.assert_allclose(np.linalg.norm(model.means, axis=1), 4.0, rtol=1e-13)
    proj = model.means @ model.basis  # (K, R)
    if placement == "orthogonal":
        np.testing.assert_allclose(proj, 0.0, atol=1e-12)
        np.testing.assert_allclose(model.means @ model.means.T, 16.0 * np.eye(3), atol=1e-12)
    else:
        for k in range(3):
            inside = model.means[k] @ model.bases[k]
            np.testing.assert_allclose(np.linalg.norm(inside), 4.0, rtol=1e-13)


# ---------------------------------------------------------------------------- sampling
def _chi2_ok(counts: np.ndarray, probs: np.ndarray) -> bool:
    return bool(stats.chisquare(counts, counts.sum() * probs).pvalue > ALPHA)


def _moments_ok(x: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> None:
    """z-scores of the sample mean and covariance entries (Gaussian sampling variances)."""
    m, n = x.shape
    z_thr = stats.norm.isf(ALPHA / (2 * (n + n * n)))
    se_mean = np.sqrt(np.diag(cov) / m)
    mask = se_mean > 0
    assert np.all(np.abs(x.mean(axis=0) - mean)[mask] <= z_thr * se_mean[mask])
    centred = x - mean
    emp = centred.T @ centred / m
    se_cov = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / m)
    assert np.all(np.abs(emp - cov) <= z_thr * se_cov + 1e-12)


def test_sample_class_moments() -> None:
    bases = [haar_basis(8, 3, 1), two_subspaces(8, 2, 30.0, seed=2).bases[1], haar_basis(8, 1, 3)]
    means = np.random.default_rng(4).standard_normal((3, 8))
    model = LowRankMixture(bases, delta=0.3, means=means)
    for k in range(3):
        x = model.sample_class(k, 40000, np.random.default_rng(10 + k))
        assert x.shape == (40000, 8)
        _moments_ok(x, means[k], dense_bayes.class_covariance(bases, 0.3, k))


def test_sample_labels_and_per_class_moments() -> None:
    weights = np.array([0.7, 0.2, 0.1])
    model = unequal_ranks(7, (3, 1, 2), 0.25, weights=weights, seed=5)
    model = model.replace(means=np.random.default_rng(1).standard_normal((3, 7)))
    x0, labels = model.sample(60000, 11)
    assert x0.shape == (60000, 7) and labels.dtype == np.int64
    assert _chi2_ok(np.bincount(labels, minlength=3), weights)
    for k in range(3):
        _moments_ok(x0[labels == k], model.means[k], model.covariance(k))


def test_delta_zero_samples_lie_on_the_affine_subspace() -> None:
    model = two_subspaces(9, 2, 50.0, delta=0.0, means=np.ones((2, 9)), seed=0)
    x0, labels = model.sample(500, 0)
    for k in range(2):
        xc = x0[labels == k] - model.means[k]
        u = model.bases[k]
        np.testing.assert_allclose(xc - (xc @ u) @ u.T, 0.0, atol=1e-13)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sample_namespaces(backend: str, dtype: str) -> None:
    model = unequal_ranks(6, (2, 1), 0.2, weights=[0.6, 0.4], means=np.ones((2, 6)), seed=0)
    xp = namespace(backend)
    x0, labels = model.sample(50, 3, xp=backend, dtype=dtype)
    assert x0.dtype == getattr(xp, dtype) and x0.shape == (50, 6) and labels.shape == (50,)
    xk = model.sample_class(1, 4, 3, xp=xp, dtype=dtype)
    assert xk.dtype == getattr(xp, dtype) and xk.shape == (4, 6)
    # NumPy-like namespaces share the NumPy stream: same draws on both
    ref, ref_labels = model.sample(50, 3, dtype=dtype)
    np.testing.assert_array_equal(to_numpy(x0), ref)
    np.testing.assert_array_equal(to_numpy(labels), ref_labels)


def test_parameters_from_another_namespace() -> None:
    xps = namespace("array_api_strict")
    bases = _bases()
    model = LowRankMixture([xps.asarray(b) for b in bases], delta=xps.asarray(0.2),
                           weights=xps.asarray([0.5, 0.25, 0.25]), means=xps.asarray(np.ones((3, 6))))
    np.testing.assert_array_equal(model.basis, np.concatenate(bases, axis=1))
    assert model.delta == 0.2 and model.has_means
    stacked = LowRankMixture(xps.asarray(np.stack([np.eye(4, 2), np.eye(4)[:, 2:]])))
    assert stacked.ranks == (2, 2)
