"""The registry of ``python -m verify`` commands: the one place a command is added.

Each entry is an instance of a :class:`verify.command.Command` subclass, in the order of
``python -m verify --help``.  Adding a command: its module (one class), one line here, and
its test (docs/contributing.md).
"""

from __future__ import annotations

from typing import Any

from . import (
    collapse,
    derive,
    ensemble,
    generalization,
    learning,
    mapping,
    memorization,
    mixtures,
    peaklaw,
    probe,
    proposition1,
    separated,
    speciation,
    survey,
    sweep,
    theorem1,
    trained,
)
from .command import Command

__all__ = ["COMMANDS", "find"]


COMMANDS: tuple[Command[Any], ...] = (
    theorem1.Theorem1(),
    mapping.Map(),
    sweep.Sweep(),
    survey.Survey(),
    proposition1.Proposition1(),
    derive.Derive(),
    peaklaw.PeakLaw(),
    memorization.Memorization(),
    mixtures.Mixtures(),
    separated.Separated(),
    probe.Probe(),
    speciation.Speciation(),
    collapse.Collapse(),
    trained.Trained(),
    ensemble.Ensemble(),
    generalization.Generalization(),
    learning.Learning(),
)
"""Every command, in the order of ``python -m verify --help``."""


def find(name: str) -> Command[Any]:
    """The registered command called ``name``."""
    return next(c for c in COMMANDS if c.name == name)
