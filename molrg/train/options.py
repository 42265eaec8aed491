"""``TrainOptions``: the recipe of :func:`molrg.train_denoiser` beyond model, size and seed;
``TrainMonitor``: what to watch and keep during a run (no torch)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from ..validation import (
    ParameterError,
    ParameterTypeError,
    check_bool,
    check_choice,
    check_int,
    check_real,
)
from .schedule import PAPER_SIGMAS, DDPMSchedule

__all__ = ["INITS", "LR_SCHEDULES", "TrainMonitor", "TrainOptions"]

INITS = ("subspaces", "pca", "random")
LR_SCHEDULES = ("cosine", "constant")


@dataclass(frozen=True)
class TrainOptions:
    """How to train (defaults: the recipe that recovers the subspaces, ``docs/trained.md``).

    Parameters
    ----------
    batch_size : samples per Adam step.
    lr : Adam's learning rate (peak value for ``lr_schedule="cosine"``).
    lr_schedule : ``"cosine"`` (annealed to 0 over the run, per step) or ``"constant"``
        (the paper's, as stated).
    init : the DAE's initial ``U``: ``"subspaces"`` (K-subspaces clustering of the training
        data, :func:`molrg.train.fit.k_subspaces`), ``"pca"`` (the top ``K d`` principal
        directions of the training data, blocks in eigenvalue order) or ``"random"`` (Haar,
        the paper's).  Gradient training from ``"pca"`` or ``"random"`` stalls in mixed
        blocks (``docs/trained.md``).
    schedule : the DDPM schedule whose ``sigma_t`` the timesteps are drawn from (uniformly).
    levels : noise levels to train on instead of the schedule (drawn uniformly from these);
        required for one DAE per level (``share=False``: default the paper's nine-point
        grid); with ``share=True``, e.g. one level (a single-level DAE) or three.
    width, depth : the MLP's hidden width and number of hidden layers.
    d : the DAE's block size (default: the model's largest class rank).
    dtype : ``"float32"`` or ``"float64"`` (parameters and arithmetic).
    device : ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.
    threads : torch CPU threads during training (default 1; ``None`` leaves torch's setting).
        The models are tiny, so a second thread buys nothing: on the shared 2-core machine the
        Fig. 3 recipe took 47.1 s with one thread and 526.8 s with two (load average ~11).
    """

    batch_size: int = 128
    lr: float = 3e-3
    lr_schedule: str = "cosine"
    init: str = "subspaces"
    schedule: DDPMSchedule = field(default_factory=DDPMSchedule)
    levels: tuple[float, ...] | None = None
    width: int = 256
    depth: int = 3
    d: int | None = None
    dtype: str = "float32"
    device: str = "auto"
    threads: int | None = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "batch_size", check_int("batch_size", self.batch_size, low=1))
        object.__setattr__(self, "lr", check_real("lr", self.lr, low=0.0, high=10.0))
        check_choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        check_choice("init", self.init, INITS)
        if not isinstance(self.schedule, DDPMSchedule):
            raise ParameterTypeError(f"schedule={self.schedule!r} must be a DDPMSchedule")
        if self.levels is not None:
            try:
                if isinstance(self.levels, (str, bytes)):
                    raise TypeError
                items = list(self.levels)
            except TypeError:
                items = []
            if not items:
                raise ParameterError(f"levels={self.levels!r}; valid: a non-empty sequence of "
                                     "positive noise levels")
            lv = tuple(check_real("levels", s, low=0.0, high=1e6) for s in items)
            object.__setattr__(self, "levels", lv)
        object.__setattr__(self, "width", check_int("width", self.width, low=1))
        object.__setattr__(self, "depth", check_int("depth", self.depth, low=1))
        if self.d is not None:
            object.__setattr__(self, "d", check_int("d", self.d, low=1))
        check_choice("dtype", self.dtype, ("float32", "float64"))
        check_choice("device", self.device, ("auto", "cpu", "cuda"))
        if self.threads is not None:
            object.__setattr__(self, "threads", check_int("threads", self.threads, low=1))

    @classmethod
    def paper(cls, **changes: Any) -> TrainOptions:
        """The recipe as the paper states it, with tiny-diffusion's defaults where it is silent
        (batch 256, learning rate 1e-3 constant; tiny-diffusion uses AdamW with gradient
        clipping, the paper says Adam: plain Adam here) and a random initial ``U``."""
        return replace(cls(batch_size=256, lr=1e-3, lr_schedule="constant", init="random"),
                       **changes)

    def replace(self, **changes: Any) -> TrainOptions:
        return replace(self, **changes)

    def training_levels(self, share: bool) -> tuple[float, ...] | None:
        """The levels trained on (``None``: the schedule's ``sigma_t``)."""
        if self.levels is None and not share:
            return PAPER_SIGMAS
        return self.levels

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["schedule"] = self.schedule.to_json()
        out["levels"] = None if self.levels is None else list(self.levels)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrainOptions:
        data = dict(data)
        data["schedule"] = DDPMSchedule(**data["schedule"])
        if data.get("levels") is not None:
            data["levels"] = tuple(data["levels"])
        return cls(**data)


@dataclass(frozen=True)
class TrainMonitor:
    """What :func:`molrg.train_denoiser` keeps and reports while it trains (not part of the
    recipe: a run with or without a monitor trains the same network).

    Parameters
    ----------
    checkpoints : epochs (1-based) at which to keep a copy of the network
        (``result.checkpoints[epoch]``); each at most the run's ``epochs``.
    callback : ``callback(epoch, loss)`` after every epoch (1-based), or ``None``.
    progress : show a rich progress bar (one tick per epoch).

    Examples
    --------
    >>> from molrg.train import TrainMonitor
    >>> TrainMonitor(checkpoints=[4, 2, 4]).checkpoints
    (2, 4)
    """

    checkpoints: tuple[int, ...] = ()
    callback: Callable[[int, float], Any] | None = None
    progress: bool = False

    def __post_init__(self) -> None:
        try:
            if isinstance(self.checkpoints, (str, bytes)):
                raise TypeError
            epochs = {check_int("checkpoints", c, low=1) for c in self.checkpoints}
        except TypeError:
            raise ParameterTypeError(f"checkpoints={self.checkpoints!r} must be a sequence of "
                                     "epochs (integers >= 1)") from None
        object.__setattr__(self, "checkpoints", tuple(sorted(epochs)))
        if self.callback is not None and not callable(self.callback):
            raise ParameterTypeError(f"callback={self.callback!r} must be None or a "
                                     "callable(epoch, loss)")
        object.__setattr__(self, "progress", check_bool("progress", self.progress))
