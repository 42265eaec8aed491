"""``train_denoiser``: fit a denoiser to samples of a model with the paper's loss (torch).

Loss (the paper's eq. 2, x0-prediction): ``E_t E_{x0, eps} ||x_theta(x_t, sigma_t) - x_0||^2``
with ``x_t = x_0 + sigma_t eps`` (VE; :mod:`molrg.train.schedule` for the DDPM mapping),
``t`` uniform on the schedule's ``T`` timesteps (or on ``levels``), one ``t`` and one ``eps``
per sample per step, fresh every epoch; Adam; per epoch one pass over the training set in
a seeded random order.  After every step the DAE's ``U`` is retracted to orthonormal
columns (QR).  Reproducible for a seed on CPU: one ``torch.Generator`` seeded from
``seed`` draws the order, timesteps and noise, and deterministic algorithms are on.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import Progress

from ..denoisers import DAE
from ..models import check_model, haar_basis
from ..validation import ParameterError, ParameterTypeError, check_bool, check_choice, check_int
from ._torch import require_torch
from .adaptor import TorchDenoiser
from .angles import SubspaceRecovery, subspace_recovery
from .options import TrainMonitor, TrainOptions

__all__ = ["ARCHITECTURES", "TrainedDenoiser", "train_denoiser"]

ARCHITECTURES = ("dae", "mlp")
FORMAT = "molrg.trained/1"


class TrainedDenoiser(TorchDenoiser):
    """A trained denoiser: a :class:`~molrg.Denoiser` ``(x_t, sigma) -> xhat`` (VE).

    Usable wherever a denoiser is (``molrg.snr(..., denoiser=)``,
    ``molrg.probe_accuracy(..., denoiser=)``).  Attributes: ``module`` (the torch module),
    ``recipe`` (JSON-able dict: architecture, sizes, options, seed...), ``loss_history``
    (mean training loss per epoch), ``epoch`` (epochs trained), ``seconds`` (training wall
    time), ``cpu_seconds`` (CPU time of the training process over the run: on a machine
    shared with other jobs, the wall time the run would take on an idle core with one
    torch thread).  The shared-``U`` DAE exposes :attr:`basis` and :meth:`dae` (a
    :class:`~molrg.DAE`, for the exact Bayes probe); one DAE per level exposes
    :attr:`bases` and :meth:`basis_at`.
    """

    def __init__(self, module: Any, recipe: dict[str, Any], loss_history: Sequence[float],
                 epoch: int, seconds: float = 0.0, cpu_seconds: float = math.nan) -> None:
        super().__init__(module, time="sigma", name=f"trained {recipe['architecture']}")
        self.recipe = recipe
        self.loss_history = np.asarray(loss_history, dtype=np.float64)
        self.epoch = int(epoch)
        self.seconds = float(seconds)
        self.cpu_seconds = float(cpu_seconds)
        self.checkpoints: dict[int, TrainedDenoiser] = {}

    def __repr__(self) -> str:
        r = self.recipe
        return (f"TrainedDenoiser(architecture={r['architecture']!r}, share={r['share']}, "
                f"n={r['n']}, epoch={self.epoch}, loss={self.final_loss:.4g})")

    @property
    def final_loss(self) -> float:
        return float(self.loss_history[-1]) if self.loss_history.size else math.nan

    @property
    def architecture(self) -> str:
        return str(self.recipe["architecture"])

    @property
    def shared(self) -> bool:
        return bool(self.recipe["share"])

    def _u(self) -> np.ndarray:
        if self.architecture != "dae":
            raise AttributeError(f"a trained {self.architecture} has no basis (only the DAE has)")
        return self.module.U.detach().cpu().double().numpy()

    @staticmethod
    def _orthonormal(u: np.ndarray) -> np.ndarray:
        q, r = np.linalg.qr(u)
        return q * np.where(np.diagonal(r) < 0, -1.0, 1.0)

    @property
    def basis(self) -> np.ndarray:
        """The learned ``(n, K d)`` ``U`` of the shared DAE (float64, orthonormal columns)."""
        if not self.shared:
            raise AttributeError("one DAE per noise level has one basis per level: use .bases "
                                 "or .basis_at(sigma)")
        return self._orthonormal(self._u())

    @property
    def bases(self) -> np.ndarray:
        """``(L, n, K d)``: one learned ``U`` per training level (``share=False``)."""
        u = self._u()
        return np.stack([self._orthonormal(b) for b in (u if u.ndim == 3 else u[None])])

    @property
    def levels(self) -> tuple[float, ...] | None:
        lv = self.recipe["levels"]
        return None if lv is None else tuple(lv)

    def basis_at(self, sigma: float) -> np.ndarray:
        """The ``U`` used at ``sigma`` (the nearest training level in log sigma, or shared)."""
        if self.shared:
            return self.basis
        lv = np.log(np.asarray(self.levels))
        return self.bases[int(np.argmin(np.abs(lv - math.log(float(sigma)))))]

    def dae(self, sigma: float | None = None) -> DAE:
        """The learned DAE as a :class:`~molrg.DAE` (NumPy; exact Bayes probe); ``sigma``
        picks the level of a per-level DAE."""
        if sigma is None and not self.shared:
            raise ParameterError("sigma=None; valid: a noise level for one DAE per level")
        u = self.basis if sigma is None else self.basis_at(sigma)
        return DAE(u, self.recipe["K"], self.recipe["delta"])

    def recovery(self, model: Any, sigma: float | None = None) -> SubspaceRecovery:
        """Principal angles between the learned basis and ``model``'s true subspaces."""
        u = self.basis if sigma is None else self.basis_at(sigma)
        return subspace_recovery(u, model)

    # ------------------------------------------------------------------ save / load
    def save(self, path: str | Path) -> Path:
        """Write ``path/state.pt`` (torch state dict) and ``path/recipe.json``; returns ``path``."""
        p = Path(path)
        p.mkdir(parents=True, exist_ok=True)
        torch = self._torch
        torch.save(self.module.state_dict(), p / "state.pt")
        meta = {"format": FORMAT, "recipe": self.recipe, "epoch": self.epoch,
                "seconds": self.seconds, "loss_history": self.loss_history.tolist()}
        (p / "recipe.json").write_text(json.dumps(meta, indent=1))
        return p

    @classmethod
    def load(cls, path: str | Path, *, device: str = "cpu") -> TrainedDenoiser:
        """Rebuild a saved denoiser (``weights_only`` loading: no pickled code runs)."""
        torch = require_torch("TrainedDenoiser.load")
        from .networks import build  # imports torch at its top (the ``train`` extra)

        p = Path(path)
        try:
            meta = json.loads((p / "recipe.json").read_text())
        except FileNotFoundError:
            raise ParameterError(f"path={str(path)!r} has no recipe.json; valid: a directory "
                                 "written by TrainedDenoiser.save") from None
        if meta.get("format") != FORMAT:
            raise ParameterError(f"path={str(path)!r} has format {meta.get('format')!r}; "
                                 f"valid: {FORMAT!r}")
        module = build(meta["recipe"])
        module.load_state_dict(torch.load(p / "state.pt", map_location=device, weights_only=True))
        return cls(module.to(device), meta["recipe"], meta["loss_history"], meta["epoch"],
                   meta.get("seconds", 0.0))


# --------------------------------------------------------------------------- training
@dataclass(frozen=True)
class _Plan:
    data: np.ndarray
    recipe: dict[str, Any]
    options: TrainOptions
    epochs: int
    seed: int
    monitor: TrainMonitor
    device: str


def _model_meta(model: Any) -> tuple[int, int, float, int, str]:
    """``(K, d, delta, n, description)`` of a model (d: its largest class rank), read from
    its general form (:meth:`~molrg.models.Model.to_mixture`)."""
    model = check_model(model, ambient=True)
    mixture = model.to_mixture()
    return model.K, max(mixture.ranks), float(mixture.delta), mixture.n, repr(model)


def _training_set(model: Any, data: Any, seed: int, n: int) -> np.ndarray:
    """``data`` as a finite ``(N, n)`` float64 array; an integer ``N``: ``N`` samples of
    ``model`` drawn with ``seed``."""
    if np.ndim(data) == 0 and not hasattr(data, "get"):
        x0, _ = model.sample(check_int("data", data, low=1, high=10**8), seed)
        return np.asarray(x0, dtype=np.float64)
    try:
        arr = np.array(data.get() if hasattr(data, "get") else data, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterTypeError("data must be a sample count or an (N, n) array of real "
                                 "numbers") from None
    if arr.ndim != 2 or arr.shape[1] != n or arr.shape[0] < 1:
        raise ParameterError(f"data has shape {arr.shape}; valid: (N, n) with n={n}, N >= 1")
    if not np.all(np.isfinite(arr)):
        raise ParameterError("data has non-finite entries; valid: finite samples")
    return arr


def _iv(model: Any, architecture: Any, share: Any, data: Any, epochs: Any, seed: Any,
        options: Any, monitor: Any) -> _Plan:
    K, d, delta, n, desc = _model_meta(model)
    architecture = check_choice("architecture", architecture, ARCHITECTURES)
    share = check_bool("share", share)
    if architecture == "mlp" and not share:
        raise ParameterError("share=False with architecture='mlp'; valid: share=True (one "
                             "sigma-conditioned MLP), or architecture='dae'")
    epochs = check_int("epochs", epochs, low=1, high=10**7)
    seed = check_int("seed", seed, low=0, high=2**62)
    options = TrainOptions() if options is None else options
    if not isinstance(options, TrainOptions):
        raise ParameterTypeError(f"options={options!r} must be a molrg.train.TrainOptions")
    if options.d is not None:
        d = options.d
    if architecture == "dae" and K * d > n:
        raise ParameterError(f"options.d={d} gives K*d={K * d} > n={n}; valid: K*d <= n")
    given = np.ndim(data) != 0 or hasattr(data, "get")
    arr = _training_set(model, data, seed, n)
    monitor = TrainMonitor() if monitor is None else monitor
    if not isinstance(monitor, TrainMonitor):
        raise ParameterTypeError(f"monitor={monitor!r} must be None or a "
                                 "molrg.train.TrainMonitor")
    for c in monitor.checkpoints:
        check_int("checkpoints", c, low=1, high=epochs)
    torch = require_torch("molrg.train_denoiser")
    device = options.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    elif device == "cuda" and not torch.cuda.is_available():
        raise ParameterError("options.device='cuda' but torch sees no CUDA device; valid: 'cpu', "
                             "'auto'")
    levels = options.training_levels(share)
    rms = float(np.sqrt(np.mean(arr * arr)))
    recipe = {"architecture": architecture, "share": share, "n": n, "K": K, "d": d,
              "delta": delta, "levels": None if levels is None else list(levels),
              "width": options.width, "depth": options.depth, "dtype": options.dtype,
              "sigma_data": rms if rms > 0 else 1.0, "options": options.to_json(),
              "epochs": epochs, "seed": seed, "samples": int(arr.shape[0]),
              "data": "given" if given else "sampled", "model": desc}
    return _Plan(arr, recipe, options, epochs, seed, monitor, device)


@contextlib.contextmanager
def _torch_settings(torch: Any, threads: int | None, deterministic: bool) -> Iterator[None]:
    """Deterministic algorithms and the thread count for the duration of a run, restored."""
    old_det = torch.are_deterministic_algorithms_enabled()
    old_threads = torch.get_num_threads()
    try:
        if deterministic:
            torch.use_deterministic_algorithms(True)
        if threads is not None:
            torch.set_num_threads(threads)
        yield
    finally:
        torch.use_deterministic_algorithms(old_det)
        torch.set_num_threads(old_threads)


def _initial_basis(torch: Any, plan: _Plan) -> Any:
    r = plan.recipe
    n, K, d = r["n"], r["K"], r["d"]
    if plan.options.init == "random":
        # its own stream: haar_basis(n, q, seed) is also how a MoLRG with that seed draws its
        # TRUE basis, which the init must not be handed
        u = haar_basis(n, K * d, np.random.default_rng([plan.seed, 0x1A17]))
    elif plan.options.init == "pca":  # top principal subspace of the training data
        u = _top_eigvecs(plan.data.T @ plan.data, K * d)
    else:
        u = k_subspaces(plan.data, K, d, seed=plan.seed)
    return torch.as_tensor(np.ascontiguousarray(u), dtype=getattr(torch, r["dtype"]))


def _top_eigvecs(S: np.ndarray, q: int) -> np.ndarray:
    w, v = np.linalg.eigh((S + S.T) / 2)
    return v[:, np.argsort(w)[::-1][:q]]


def k_subspaces(X: np.ndarray, K: int, d: int, *, seed: int = 0, restarts: int = 8,
                iterations: int = 20, max_points: int = 3000) -> np.ndarray:
    """K-subspaces clustering (Lloyd iterations) of the rows of ``X``: an ``(n, K d)`` basis.

    Each sample goes to the block with the largest energy ``||V_l^T x||^2``; each block
    becomes the top-``d`` principal subspace of its samples.  Seeding (per restart, in the
    spirit of k-means++): block ``l`` is the top-``d`` principal subspace of the samples most
    aligned (``|cos|``) with a sample drawn with probability proportional to its residual
    energy outside the blocks chosen so far.  ``restarts`` seeded starts; the one with the
    least residual ``sum_i ||x_i||^2 - max_l ||V_l^T x_i||^2`` is kept.  At most
    ``max_points`` rows are used (a seeded subset).  The blocks are orthogonalised jointly
    (QR, in block order) at the end.
    """
    rng = np.random.default_rng([seed, 0x5B5])
    if X.shape[0] > max_points:
        X = X[rng.choice(X.shape[0], max_points, replace=False)]
    norms = np.sqrt(np.sum(X * X, axis=1))
    keep = norms > 0
    X, norms = X[keep], norms[keep]
    unit = X / norms[:, None]
    m = max(2 * d, X.shape[0] // (4 * K))
    best, best_res = None, np.inf
    for _ in range(restarts):
        V: list[np.ndarray] = []
        for _ in range(K):
            left = np.sum(X * X, axis=1) - sum(np.sum((X @ v) ** 2, axis=1) for v in V)
            left = np.maximum(left, 0.0)
            i = int(rng.choice(X.shape[0], p=left / left.sum())) if left.sum() > 0 \
                else int(rng.integers(X.shape[0]))
            near = np.argsort(-np.abs(unit @ unit[i]))[:m]
            V.append(_top_eigvecs(X[near].T @ X[near], d))
        for _ in range(iterations):
            energy = np.stack([np.sum((X @ v) ** 2, axis=1) for v in V], axis=1)
            label = np.argmax(energy, axis=1)
            for k in range(K):
                Xk = X[label == k]
                if Xk.shape[0] >= d:
                    V[k] = _top_eigvecs(Xk.T @ Xk, d)
        energy = np.stack([np.sum((X @ v) ** 2, axis=1) for v in V], axis=1)
        res = float(np.sum(X * X) - np.sum(np.max(energy, axis=1)))
        if res < best_res:
            best, best_res = V, res
    assert best is not None
    q, rr = np.linalg.qr(np.concatenate(best, axis=1))
    return q * np.where(np.diagonal(rr) < 0, -1.0, 1.0)[None, :]


def train_denoiser(
    model: Any,
    *,
    architecture: str = "dae",
    share: bool = True,
    data: Any = 12_000,
    epochs: int = 200,
    seed: int = 0,
    options: TrainOptions | None = None,
    monitor: TrainMonitor | None = None,
) -> TrainedDenoiser:
    """Train a denoiser on samples of ``model`` with the paper's loss and DDPM schedule.

    Parameters
    ----------
    model : :class:`~molrg.MoLRG` or :class:`~molrg.LowRankMixture` (samples, and the DAE's
        ``K``, ``d`` and ``delta``).
    architecture : ``"dae"`` (the paper's eq.-4 DAE, ``theta = {U}``) or ``"mlp"``
        (sigma-conditioned MLP, ``options.width`` x ``options.depth``).
    share : ``True``: one network for every noise level; ``False`` (DAE only): one ``U``
        per level of ``options.levels`` (default: the paper's nine-point grid).
    data : the training set: a size ``N`` (``N`` samples drawn from ``model`` with
        ``seed``), or a fixed ``(N, n)`` array (memorisation studies).
    epochs : passes over the training set.
    seed : seeds the training set, the initial ``U`` (``init="random"``), the MLP's
        initialisation, the batch order, timesteps and noise.
    options : :class:`~molrg.train.TrainOptions` (batch, lr, schedule, init, levels, width,
        depth, dtype, device, threads).
    monitor : :class:`~molrg.train.TrainMonitor`: epochs at which to keep a copy
        (``result.checkpoints[epoch]``), a ``callback(epoch, loss)`` after every epoch and
        a progress bar (default: none of them).

    Returns
    -------
    :class:`TrainedDenoiser` (``checkpoints``: dict epoch -> TrainedDenoiser).

    Examples
    --------
    Two epochs of the shared DAE on 64 samples (a fraction of a second once torch is
    imported); the learnt basis is ``(n, K d)`` (needs the ``train`` extra: the doctests
    skip without torch).

    >>> import molrg
    >>> model = molrg.MoLRG(K=2, d=1, n=3, delta=0.5, seed=0)
    >>> den = molrg.train_denoiser(model, data=64, epochs=2, seed=0)
    >>> den.epoch, len(den.loss_history), den.basis.shape
    (2, 2, (3, 2))
    >>> x0, _ = model.sample(5, 1)
    >>> den(x0, 0.5).shape
    (5, 3)
    """
    plan = _iv(model, architecture, share, data, epochs, seed, options, monitor)
    return _train(plan)


def _train(plan: _Plan) -> TrainedDenoiser:
    import torch  # optional (the ``train`` extra), as is .networks, which imports it

    from .networks import build

    r, opt = plan.recipe, plan.options
    dtype = getattr(torch, r["dtype"])
    dev = torch.device(plan.device)
    with _torch_settings(torch, opt.threads, plan.device == "cpu"):
        torch.manual_seed(plan.seed)  # module initialisation (MLP)
        module: Any = build(r, _initial_basis(torch, plan) if r["architecture"] == "dae" else None).to(dev)
        gen = torch.Generator(device="cpu").manual_seed(plan.seed + 1)
        X = torch.as_tensor(plan.data, dtype=dtype).to(dev)
        N = X.shape[0]
        if r["levels"] is None:
            table = torch.as_tensor(opt.schedule.sigmas, dtype=dtype)
        else:
            table = torch.as_tensor(r["levels"], dtype=dtype)
        table = table.to(dev)
        steps_per_epoch = math.ceil(N / opt.batch_size)
        total = steps_per_epoch * plan.epochs
        optim = torch.optim.Adam(module.parameters(), lr=opt.lr)
        sched = (torch.optim.lr_scheduler.CosineAnnealingLR(optim, T_max=total)
                 if opt.lr_schedule == "cosine" else None)
        history: list[float] = []
        kept: dict[int, TrainedDenoiser] = {}
        start = time.perf_counter()
        cpu_start = time.process_time()
        callback = plan.monitor.callback
        bar = _progress(plan.monitor.progress, plan.epochs)
        with bar as advance:
            for epoch in range(1, plan.epochs + 1):
                order = torch.randperm(N, generator=gen).to(dev)
                t_idx = torch.randint(0, table.shape[0], (N,), generator=gen).to(dev)
                noise = torch.randn(N, r["n"], generator=gen, dtype=dtype).to(dev)
                acc = torch.zeros((), dtype=torch.float64, device=dev)
                for i in range(0, N, opt.batch_size):
                    idx = order[i:i + opt.batch_size]
                    x0 = X[idx]
                    s = table[t_idx[idx]]
                    xt = x0 + s[:, None] * noise[idx]
                    loss = ((module(xt, s) - x0) ** 2).sum(1).mean()
                    optim.zero_grad(set_to_none=True)
                    loss.backward()
                    optim.step()
                    module.retract()
                    if sched is not None:
                        sched.step()
                    acc += loss.detach().to(torch.float64) * idx.shape[0]
                history.append(float(acc) / N)
                if callback is not None:
                    callback(epoch, history[-1])
                if epoch in plan.monitor.checkpoints:
                    kept[epoch] = TrainedDenoiser(copy.deepcopy(module), r, list(history), epoch,
                                                  time.perf_counter() - start)
                advance()
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
    result = TrainedDenoiser(module, r, history, plan.epochs, seconds, cpu)
    result.checkpoints = kept
    return result


class _NoBar:
    def __enter__(self) -> Callable[[], None]:
        return lambda: None

    def __exit__(self, *exc: object) -> None:
        return None


class _RichBar:
    def __init__(self, total: int) -> None:
        self.progress = Progress(transient=True)
        self.total = total

    def __enter__(self) -> Callable[[], None]:
        self.progress.start()
        task = self.progress.add_task("training (epochs)", total=self.total)
        return lambda: self.progress.advance(task)

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


def _progress(enabled: bool, total: int) -> Any:
    return _RichBar(total) if enabled else _NoBar()
