"""``python -m verify mixtures``: (being built)."""

from __future__ import annotations

import argparse
from typing import Any

from molrg import ParameterError

NAME = "mixtures"
HELP = "(being built)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser


def execute(args: argparse.Namespace) -> Any:
    raise ParameterError("mixtures is not built yet")
