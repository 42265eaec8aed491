"""verify: command-line checks of the MoLRG theory (``python -m verify --help``).

Each subcommand module exposes ``add_arguments(parser)``, a plain ``run(...) -> Result``
callable from Python, and ``main(args) -> int`` (the CLI glue).  The math lives in
:mod:`molrg`; this package orchestrates and reports.
"""

from .cli import main

__all__ = ["main"]
