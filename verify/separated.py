"""``python -m verify separated``: (being built)."""

from __future__ import annotations

import argparse
from typing import Any

from molrg import ParameterError

NAME = "separated"
HELP = "(being built)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser


def execute(args: argparse.Namespace) -> Any:
    raise ParameterError("separated is not built yet")
