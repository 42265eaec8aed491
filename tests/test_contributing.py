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
