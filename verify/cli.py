"""Entry point: ``python -m verify <command> [options]``.

Exit status: 0 when every check holds, 1 when a check deviates, 2 on bad input (the
message names the parameter and its valid range; no traceback).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import derive, peaklaw, proposition1, survey, sweep, theorem1

COMMANDS = (theorem1, proposition1, derive, sweep, survey, peaklaw)

EPILOG = """examples:
  python -m verify theorem1                        # the paper's Fig. 3 setting, both inputs
  python -m verify theorem1 --K 10 --d 5 --n 100 --delta 0.3 --json out/t1.json --plot out/t1.png
  python -m verify sweep --vary K --values 2,3,5,10,20
  python -m verify proposition1                    # posterior mean: symbolic = closed form = dense Bayes
  python -m verify derive --latex                  # the derived expressions
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m verify",
        description="Check the theory of diffusion-based representation learning on the "
        "noisy mixture of low-rank Gaussians (MoLRG): derived theory (SymPy) against "
        "Monte Carlo truth (NumPy/CuPy).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="command", required=True)
    for module in COMMANDS:
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(p)
        p.set_defaults(handler=module.main)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the subcommand; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except ValueError as exc:
        print(f"{parser.prog} {args.command}: error: {exc}", file=sys.stderr)
        return 2
