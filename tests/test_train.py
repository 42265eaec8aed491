"""``molrg.train_denoiser``: the eq.-4 DAE and the MLP trained with torch (skipped without it).

Small models and few epochs: the full-size recipe is checked by ``python -m verify trained``.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import molrg
from molrg.train import TrainMonitor

torch = pytest.importorskip("torch")

SMALL = molrg.MoLRG(2, 2, 6, 0.2, seed=1)
FAST = molrg.TrainOptions(batch_size=64, threads=1, device="cpu")


def _train(**kw: object) -> molrg.TrainedDenoiser:
    """``train_denoiser`` on ``SMALL``; ``checkpoints``/``callback``/``progress`` go into
    the :class:`~molrg.train.TrainMonitor` (built here, inside the caller's ``raises``)."""
    watch = {k: kw.pop(k) for k in ("checkpoints", "callback", "progress") if k in kw}
    args: dict[str, object] = {"data": 256, "epochs": 3, "seed": 4, "options": FAST}
    if watch:
        args["monitor"] = TrainMonitor(**watch)  # type: ignore[arg-type]
    args.update(kw)
    return molrg.train_denoiser(SMALL, **args)  # type: ignore[arg-type]


def test_dae_net_with_the_true_basis_is_the_exact_optimal_denoiser() -> None:
    from molrg.train.networks import DAENet

    model = molrg.MoLRG(3, 2, 9, 0.3, seed=2)
    net = DAENet(torch.tensor(model.basis), model.K, model.delta).double()
    x = np.random.default_rng(0).standard_normal((50, 9)) * 1.5
    for sigma in (1e-3, 0.2, 1.0, 30.0):
        with torch.no_grad():
            out = net(torch.as_tensor(x), torch.full((50,), sigma, dtype=torch.float64)).numpy()
        np.testing.assert_allclose(out, molrg.posterior_mean(model, x, sigma), rtol=1e-10,
                                   atol=1e-12)


def test_k_subspaces_start_recovers_the_class_subspaces_of_a_small_model() -> None:
    from molrg.train.fit import k_subspaces

    model = molrg.MoLRG(3, 2, 10, 0.2, seed=7)
    for seed in (0, 1, 2):
        x0 = np.asarray(model.sample(1500, seed)[0])
        U = k_subspaces(x0, 3, 2, seed=seed)
        np.testing.assert_allclose(U.T @ U, np.eye(6), atol=1e-12)
        # measured 0.95-1.9 degrees over seeds 0-5 at N=1500; mixed blocks give ~90
        assert molrg.subspace_recovery(U, model).largest < 6.0


def test_training_is_reproducible_for_a_seed_and_differs_across_seeds() -> None:
    a, b, c = _train(), _train(), _train(seed=5)
    np.testing.assert_array_equal(a.loss_history, b.loss_history)
    np.testing.assert_array_equal(a.basis, b.basis)
    assert not np.array_equal(a.loss_history, c.loss_history)
    assert not torch.are_deterministic_algorithms_enabled()  # restored after training


def test_trained_dae_is_a_denoiser_with_an_orthonormal_basis_history_and_checkpoints() -> None:
    seen: list[tuple[int, float]] = []
    den = _train(epochs=4, checkpoints=[2, 4], callback=lambda e, loss: seen.append((e, loss)))
    assert isinstance(den, molrg.Denoiser)
    assert den.loss_history.shape == (4,) and np.all(np.isfinite(den.loss_history))
    assert [e for e, _ in seen] == [1, 2, 3, 4]
    np.testing.assert_array_equal([loss for _, loss in seen], den.loss_history)
    assert sorted(den.checkpoints) == [2, 4]
    np.testing.assert_array_equal(den.checkpoints[2].loss_history, den.loss_history[:2])
    U = den.basis
    assert U.shape == (6, 4)
    np.testing.assert_allclose(U.T @ U, np.eye(4), atol=1e-12)
    # float32 module vs the NumPy DAE with the learned basis: the same function
    x = np.asarray(SMALL.sample(40, 9)[0])
    np.testing.assert_allclose(den(x, 0.3), den.dae()(x, 0.3), rtol=2e-5, atol=2e-6)
    res = molrg.snr(SMALL, [0.1, 0.5], denoiser=den,
                    method=molrg.MonteCarlo("ambient", samples=200, seed=0))
    assert np.all(np.isfinite(res.estimate))
    acc = molrg.probe_accuracy(SMALL, 0.3, probe="bayes", denoiser=den.dae(),
                               method=molrg.Auto(molrg.MonteCarlo(samples=200)))
    assert 0.0 <= float(acc.estimate) <= 1.0


def test_save_and_load_round_trip_gives_the_same_function(tmp_path: object) -> None:
    den = _train()
    path = den.save(tmp_path / "run")  # type: ignore[operator]
    back = molrg.TrainedDenoiser.load(path)
    x = np.random.default_rng(2).standard_normal((7, 6))
    np.testing.assert_array_equal(back(x, 0.4), den(x, 0.4))
    np.testing.assert_array_equal(back.loss_history, den.loss_history)
    assert back.recipe == den.recipe
    with pytest.raises(molrg.ParameterError, match=r"recipe\.json"):
        molrg.TrainedDenoiser.load(tmp_path)  # type: ignore[arg-type]


def test_one_dae_per_level_has_one_basis_per_level() -> None:
    levels = (0.05, 0.5, 2.0)
    den = _train(share=False, options=FAST.replace(levels=levels))
    assert den.bases.shape == (3, 6, 4) and den.levels == levels
    with pytest.raises(AttributeError, match="bases"):
        den.basis  # noqa: B018
    np.testing.assert_array_equal(den.basis_at(0.6), den.bases[1])
    x = np.random.default_rng(3).standard_normal((5, 6))
    np.testing.assert_allclose(den(x, 0.5), den.dae(0.5)(x, 0.5), rtol=2e-5, atol=2e-6)


def test_mlp_trains_on_a_fixed_data_set_and_is_a_denoiser() -> None:
    data = np.asarray(SMALL.sample(16, 3)[0])
    den = _train(architecture="mlp", data=data, options=FAST.replace(width=32, depth=2))
    assert den.recipe["samples"] == 16 and den.recipe["data"] == "given"
    assert den(data, 0.1).shape == data.shape
    with pytest.raises(AttributeError, match="no basis"):
        den.basis  # noqa: B018


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"architecture": "cnn"}, "architecture='cnn'"),
    ({"architecture": "mlp", "share": False}, "share=False"),
    ({"epochs": 0}, "epochs=0"),
    ({"data": np.zeros((5, 3))}, r"data has shape \(5, 3\)"),
    ({"data": np.full((5, 6), np.nan)}, "non-finite"),
    ({"checkpoints": [9]}, "checkpoints=9"),
    ({"callback": 3}, "callback=3"),
    ({"options": {"lr": 1}}, "options="),
])
def test_bad_arguments_are_refused_before_training(kwargs: dict[str, object], words: str) -> None:
    with pytest.raises(molrg.ParameterError, match=words):
        _train(**kwargs)


def test_options_are_validated() -> None:
    with pytest.raises(molrg.ParameterError, match="lr_schedule="):
        molrg.TrainOptions(lr_schedule="step")
    with pytest.raises(molrg.ParameterError, match="levels="):
        molrg.TrainOptions(levels=(0.1, -1.0))
    assert molrg.TrainOptions.paper().init == "random"
    opt = molrg.TrainOptions(levels=(0.1, 1.0))
    assert molrg.TrainOptions.from_json(opt.to_json()) == opt


def test_without_torch_import_works_and_training_names_the_extra() -> None:
    code = ("import sys; sys.modules['torch'] = None\n"
            "import molrg\nfrom molrg import *\n"
            "try:\n    molrg.train_denoiser(molrg.MoLRG(2, 1, 3, 0.2))\n"
            "except molrg.ParameterError as e:\n    print('ERR', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert "ERR" in out and "molrg[train]" in out
