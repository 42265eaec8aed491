"""``python -m verify memorization``: (being built)."""

from __future__ import annotations

import argparse
from typing import Any

from molrg import ParameterError

NAME = "memorization"
HELP = "(being built)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser


def execute(args: argparse.Namespace) -> Any:
    raise ParameterError("memorization is not built yet")
