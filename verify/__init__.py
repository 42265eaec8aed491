"""verify: command-line checks of the MoLRG theory (``python -m verify --help``).

``verify.main(argv) -> int`` runs one command and returns its exit status.  Each command is
a :class:`verify.command.Command` subclass in its own module (``name``, ``help``, an
``Options`` dataclass whose fields declare the options, ``run(options, context) -> Result``),
registered in :data:`verify.commands.COMMANDS`; :mod:`verify.cli` parses the command line,
runs the command and writes the report, the JSON and the figure.  The math lives in
:mod:`molrg`; this package orchestrates and reports.
"""

from .cli import main

__all__ = ["main"]
