"""The registry of ``python -m verify`` commands: the one place a command is added.

Each entry is an instance of a :class:`verify.command.Command` subclass, in the order of
``python -m verify --help``.  Adding a command: its module (one class), one line here, and
its test (docs/contributing.md).
"""

from __future__ import annotations

import argparse
from types import ModuleType
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
from .command import Command, Context, Result

__all__ = ["COMMANDS", "find"]


class ModuleCommand(Command[argparse.Namespace]):
    """A command not yet ported to :class:`Command`: a module with ``NAME``, ``HELP``,
    optional ``PLOTS``, ``add_arguments(parser)`` and ``execute(args)``."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.name = module.NAME  # type: ignore[misc]
        self.help = module.HELP  # type: ignore[misc]
        self.description = module.__doc__  # type: ignore[misc]
        self.plots = getattr(module, "PLOTS", True)  # type: ignore[misc]

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        self.module.add_arguments(parser)

    def execute(self, args: argparse.Namespace) -> Result:
        return self.module.execute(args)  # type: ignore[no-any-return]

    def run(self, options: argparse.Namespace, context: Context) -> Result:
        raise NotImplementedError(f"{self.name} runs from its command line only")


def _command(entry: Any) -> Command[Any]:
    return entry if isinstance(entry, Command) else ModuleCommand(entry)


COMMANDS: tuple[Command[Any], ...] = tuple(_command(c) for c in (
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
    speciation,
    collapse,
    trained,
    ensemble,
    generalization,
    learning,
))
"""Every command, in the order of ``python -m verify --help``."""


def find(name: str) -> Command[Any]:
    """The registered command called ``name``."""
    return next(c for c in COMMANDS if c.name == name)
