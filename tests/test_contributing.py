"""The worked examples of docs/contributing.md, as tests (the page quotes them)."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import molrg
import verify
from verify import commands
from verify.claims import Claim, verdict_of
from verify.command import Command, Context, option


# --8<-- [start:toy]
@dataclass(frozen=True)
class ToyOptions:
    """Options of ``verify toy``: each declared once (the CLI option, its help, the JSON)."""

    times: int = option(1, "how many times to ask (default: %(default)s)", group="toy")
    answers: tuple[float, ...] = option((42.0,), "expected answers, comma-separated",
                                        group="toy", text="42", parse=lambda text: tuple(
                                            float(v) for v in text.split(",")))

    def __post_init__(self) -> None:
        if self.times < 1:
            raise molrg.ParameterError(f"times={self.times!r} must be >= 1")


@dataclass(frozen=True)
class ToyResult:
    claims: list[Claim]

    @property
    def verdict(self) -> str:
        return verdict_of(self.claims)

    def to_json(self) -> dict[str, Any]:
        return {"answer": 42, "claims": [c.name for c in self.claims]}

    def render(self, *, table: bool = True) -> list[Any]:
        return [f"the answer {self.verdict}"]


class Toy(Command[ToyOptions]):
    """``python -m verify toy``: a toy command (its --help text)."""

    name = "toy"
    help = "a toy command"
    Options = ToyOptions
    plots = False

    def run(self, options: ToyOptions, context: Context) -> ToyResult:
        claims = [Claim(f"answer-{i}", a == 42.0, a, "== 42")
                  for i in range(options.times) for a in options.answers]
        return ToyResult(claims)
# --8<-- [end:toy]


def test_toy_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Registering a command is one entry in ``verify.commands.COMMANDS`` (patched here);
    the CLI generates its options and runs it, with the JSON envelope and exit statuses."""
    monkeypatch.setattr(commands, "COMMANDS", (*commands.COMMANDS, Toy()))
    out = tmp_path / "toy.json"
    assert verify.main(["toy", "--times", "2", "--quiet", "--json", str(out)]) == 0
    written = json.loads(out.read_text())
    assert written["verdict"] == "holds" and written["answer"] == 42
    assert written["arguments"] == {"answers": "42", "command": "toy", "times": 2}
    assert isinstance(verify.cli.build_parser(), argparse.ArgumentParser)
    assert verify.main(["toy", "--answers", "42,41", "--quiet"]) == 1  # a claim deviates
    assert verify.main(["toy", "--times", "0", "--quiet"]) == 2  # bad input
    assert verify.main(["toy", "--plot", "x.png"]) == 2  # plots = False: no --plot
    # and from Python, without the CLI
    assert Toy().run(ToyOptions(times=3), Context()).verdict == "holds"


# --8<-- [start:denoiser]
class ShrunkDAE:
    """A toy denoiser, ``xhat = c DAE(x)``, that declares Proposition 1's form through its
    ``dae_parameters`` capability: the planners then run it on the fast DAE simulator and
    give it the exact Bayes probe, with no edit anywhere else."""

    def __init__(self, dae: molrg.DAE, c: float) -> None:
        self.dae, self.c = dae, c

    @property
    def dae_parameters(self) -> Any:
        return self.dae.dae_parameters

    def __call__(self, x: Any, sigma: float, /) -> Any:
        return self.c * self.dae(x, sigma)
# --8<-- [end:denoiser]


def test_toy_denoiser_with_a_capability() -> None:
    """The capability picks the DAE simulator: the same numbers as the DAE itself (the SNR
    is a ratio, and the fast path never calls the denoiser), bit for bit."""
    import numpy as np

    model = molrg.MoLRG(3, 4, 20, 0.3, seed=1)
    dae = molrg.DAE(molrg.models.haar_basis(20, 12, 5), 3, 0.3)
    method = molrg.MonteCarlo("ambient", samples=600, seed=0)
    a = molrg.snr(model, [0.5, 1.0], denoiser=ShrunkDAE(dae, 2.0), method=method)
    b = molrg.snr(model, [0.5, 1.0], denoiser=dae, method=method)
    np.testing.assert_array_equal(a.estimate, b.estimate)
    acc = molrg.probe_accuracy(model, 0.5, denoiser=ShrunkDAE(dae, 2.0), method=method)
    assert acc.classifier.startswith("argmax_k P(k | V^T input)")  # the DAE's Bayes rule


# --8<-- [start:model]
class TwoPlanes:
    """A toy model family: two orthogonal planes in ``R^n`` with weights ``(p, 1 - p)``.
    It answers the capabilities of :class:`molrg.models.Model` (no ``setting``: not the
    idealised MoLRG; no DAE form) and converts itself to the general family."""

    def __init__(self, n: int, p: float, delta: float) -> None:
        import numpy as np

        eye = np.eye(n)
        self._mixture = molrg.LowRankMixture([eye[:, :2], eye[:, 2:4]], delta=delta,
                                             weights=[p, 1 - p])
        self.K, self.n, self.weights = 2, n, self._mixture.weights
        self.total_rank, self.setting, self.ambient, self.dae_parameters = 4, None, True, None

    def to_mixture(self) -> molrg.LowRankMixture:
        return self._mixture
# --8<-- [end:model]


def test_toy_model_family() -> None:
    """``snr`` and ``probe_accuracy`` take the new family as they take its mixture."""
    import numpy as np

    model = TwoPlanes(8, 0.3, 0.2)
    method = molrg.MonteCarlo("ambient", samples=400, seed=0)
    a = molrg.snr(model, [0.3, 1.0], method=method)
    b = molrg.snr(model.to_mixture(), [0.3, 1.0], method=method)
    np.testing.assert_array_equal(a.estimate, b.estimate)
    c = molrg.probe_accuracy(model, [0.3, 1.0], method=method)
    d = molrg.probe_accuracy(model.to_mixture(), [0.3, 1.0], method=method)
    np.testing.assert_array_equal(c.estimate, d.estimate)
    with pytest.raises(molrg.ParameterError, match="method='reduced' is exact only"):
        molrg.snr(model, 0.5, method="reduced")  # no setting: the exact methods refuse


# --8<-- [start:method]
@dataclass(frozen=True)
class Approximation(molrg.Method):
    """A toy SNR method: Theorem 1's approximation (``molrg.approx_snr``) as the estimate.
    It says where it applies (``applies``) and computes per-class values (``run``)."""

    form: str = "derived"
    error_method = "none (a closed-form approximation)"

    @property
    def name(self) -> str:
        return "approximation"

    def applies(self, caps: molrg.options.Capabilities) -> bool:
        return caps.reduced  # the idealised MoLRG with its optimal denoiser

    def run(self, plan: Any, sigma: Any) -> tuple[Any, Any]:
        import numpy as np

        value = molrg.approx_snr(sigma, plan.model.setting, input=plan.input, form=self.form)
        value = np.asarray(value, dtype=np.float64)[:, None]  # (S, 1): exchangeable classes
        return value, np.zeros_like(value)
# --8<-- [end:method]


def test_toy_snr_method() -> None:
    """``molrg.snr`` runs a method object it has never seen; the plan refuses it where it
    does not apply, naming the valid methods."""
    import numpy as np

    setting = molrg.Setting(3, 5, 0.2)
    got = molrg.snr(setting, [0.1, 1.0], method=Approximation())
    want = molrg.approx_snr(np.array([0.1, 1.0]), setting, form="derived")
    np.testing.assert_array_equal(got.estimate, want)
    assert got.method.to_json() == {"method": "approximation"}
    assert got.error_method == Approximation.error_method
    with pytest.raises(molrg.ParameterError, match="does not apply here"):
        molrg.snr(molrg.MoLRG(3, 2, 8, 0.2), 0.5, denoiser=lambda x, s: x,
                  method=Approximation())
