"""Entry point: ``python -m verify <command> [options]``.

Exit status (every command):

* 0 -- every claim holds (also with ``--exit-zero`` whatever the verdict);
* 1 -- a claim deviates (the report and the JSON say which, by how much and where);
* 2 -- bad input or usage: the message names the option, its value and the valid range;
  nothing is computed (options and output paths are checked before any work); also an
  environment failure (full disk, unwritable output, unreachable scheduler, a missing
  optional package): the message names the cause, and no temporary file or empty figure
  is left behind;
* 3 -- internal error: a traceback and a one-line summary on stderr (a bug: please report);
* 4 -- undetermined: no claim deviates, but a verdict rests on a Monte Carlo estimate
  flagged untrustworthy (heavy tails, too few samples: ``molrg.SNRResult.untrustworthy``)
  or on fewer than ``molrg.MIN_VERDICT_SAMPLES`` samples; the report says which (more
  ``--samples``, or quadrature where it applies, decide it).  ``--exit-zero`` exits 0.
* 130 -- interrupted (Ctrl-C); a multi-setting command first writes its partial JSON.

``--json PATH`` writes one envelope for every command (docs/json.md): ``format``,
``format_version``, ``command``, ``verdict``, ``partial``, the command's payload keys,
``arguments`` and ``provenance``; ``--json -`` writes it to stdout (the report then goes
to stderr).  ``--version`` prints molrg's version.
"""

from __future__ import annotations

import argparse
import sys
import traceback
import warnings
from collections.abc import Sequence
from typing import Any

import molrg
from molrg import ParameterError, UntrustworthyWarning

from . import (
    collapse,
    derive,
    ensemble,
    learning,
    mapping,
    memorization,
    mixtures,
    parallel,
    peaklaw,
    probe,
    proposition1,
    report,
    separated,
    speciation,
    survey,
    sweep,
    theorem1,
    trained,
)

COMMANDS = (theorem1, mapping, sweep, survey, proposition1, derive, peaklaw, memorization,
            mixtures, separated, probe, speciation, collapse, trained,
            ensemble, learning)

EPILOG = """examples:
  python -m verify theorem1                        # the paper's Fig. 3 setting, both inputs
  python -m verify theorem1 --form derived --json out/t1.json --plot out/t1.png
  python -m verify theorem1 --K 10 --d 5 --n 100 --delta 0.3 --method reduced
  python -m verify map --plot out/map.png          # where Theorem 1 holds, whole box
  python -m verify sweep --vary K --values 2,3,5,10,20 --scheduler local --workers 2
  python -m verify probe                           # does a higher SNR mean a better probe?
  python -m verify derive --latex                  # the derived expressions

exit status: 0 every claim holds, 1 a claim deviates, 2 bad input or usage,
3 internal error (traceback printed), 4 undetermined (a verdict would rest on a Monte
Carlo estimate flagged untrustworthy, or on too few samples).  --exit-zero reports
deviations but exits 0.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: one subparser per command, plus the shared output options."""
    parser = argparse.ArgumentParser(
        prog="python -m verify",
        description="Check the theory of diffusion-based representation learning on the "
        "noisy mixture of low-rank Gaussians (MoLRG): derived theory (SymPy) against the "
        "exact SNR (quadrature) and Monte Carlo truth (NumPy/CuPy).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=version_string())
    sub = parser.add_subparsers(dest="command", metavar="command", required=True)
    for module in COMMANDS:
        p = sub.add_parser(module.NAME, help=_plain(module.HELP),
                           description=_plain(module.__doc__),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(p)
        for action in p._actions:
            action.help = _plain(action.help)
        out = p.add_argument_group("output")
        out.add_argument("--json", metavar="PATH",
                         help="write the results (and the overall verdict) as JSON to PATH "
                         "('-': stdout; the report then goes to stderr; format: docs/json.md)")
        if getattr(module, "PLOTS", True):
            out.add_argument("--plot", metavar="PATH",
                             help="save a figure to PATH (.png, .pdf or .svg); the files "
                             "written are printed on stderr (map writes PATH_noisy and "
                             "PATH_clean)")
            out.add_argument("--style", choices=report.STYLES, default="default",
                             help="figure style: paper = serif 8 pt, 300 dpi, 7-inch page "
                             "width (default: default)")
        out.add_argument("--quiet", action="store_true",
                         help="no progress bars and no per-sigma tables")
        out.add_argument("--exit-zero", action="store_true",
                         help="exit 0 even when a claim deviates (the report still says so)")
        p.set_defaults(module=module, option_names={
            a.dest: a.option_strings[0] for a in p._actions if a.option_strings})
    return parser


def version_string() -> str:
    """``molrg 0.2.0`` (and the git commit when run from a checkout)."""
    git = report.git_revision()
    suffix = f" (git {git['commit'][:12]}{', modified' if git['dirty'] else ''})" if git else ""
    return f"molrg {molrg.__version__}{suffix}"


OPTIONAL_PACKAGES = {"dask": "pip install 'molrg[distributed]'",
                     "distributed": "pip install 'molrg[distributed]'",
                     "bokeh": "pip install 'molrg[distributed]'",
                     "torch": "pip install torch", "cupy": "pip install 'molrg[gpu]'",
                     "pandas": "pip install 'molrg[results]'",
                     "xarray": "pip install 'molrg[results]'"}
"""Optional packages and how to install them: a missing one is exit 2, not a bug."""


def _plain(text: str | None) -> str | None:
    """Docstring markup as plain text for ``--help``: ``x`` (double backticks),
    :func:`x` and `x` all become x."""
    import re

    if not text:
        return text
    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"\1", text)
    text = re.sub(r"``([^`]*)``", r"\1", text)
    return re.sub(r"`([^`]*)`", r"\1", text)


def _name_options(message: str, options: dict[str, str]) -> str:
    """Say ``--peak-tol=-1.0`` where the library says ``peak_tol=-1.0``."""
    import re

    def swap(match: re.Match[str]) -> str:
        # an element of a comma-separated list option: angle=0 -> --angles=0
        option = options.get(match.group(1)) or options.get(match.group(1) + "s")
        return f"{option}=" if option else match.group(0)

    return re.sub(r"^([A-Za-z_][A-Za-z0-9_]*)=", swap, message, count=1)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, run the command, print, write JSON and plot; return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # usage errors (2), --help and --version (0)
        return int(exc.code or 0) if isinstance(exc.code, int) or exc.code is None else 2
    name = f"{parser.prog} {args.command}"
    command_line = list(sys.argv) if argv is None else ["python", "-m", "verify", *argv]
    report.FIGURES_WRITTEN.clear()
    try:
        report.check_output_path("--json", args.json)
        report.check_output_path("--plot", getattr(args, "plot", None),
                                 suffixes=report.FIGURE_SUFFIXES)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UntrustworthyWarning)
            result = args.module.execute(args)
        flagged = [w for w in caught if issubclass(w.category, UntrustworthyWarning)]
        for w in caught:  # the others go on as they came (to the caller's filters)
            if not issubclass(w.category, UntrustworthyWarning):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        out = report.console(stderr=args.json == "-")
        for item in result.render(table=not args.quiet):
            out.print(item)
        verdict = result.verdict
        if flagged and verdict in ("holds", "deviates") \
                and not getattr(result, "JUDGES_TRUST", False):
            # the safety net for commands that do not judge trust claim by claim (theorem1,
            # sweep and the claim commands do): a verdict never holds or deviates on an
            # estimate flagged untrustworthy
            verdict = "undetermined"
            out.print(f"verdict [bold]UNDETERMINED[/bold]: {len(flagged)} Monte Carlo "
                      f"estimate(s) were flagged untrustworthy ({flagged[0].message}); the "
                      f"'{result.verdict}' above rests on them")
        if args.json:
            report.write_json(args.json, report.envelope(
                args.command, verdict, result.to_json(),
                arguments=parallel.run_arguments(args), argv=command_line))
        if getattr(args, "plot", None):
            with report.figure_style(args.style):
                result.plot(args.plot)
            for path in report.FIGURES_WRITTEN:
                print(f"{name}: wrote figure {path}", file=sys.stderr)
        failed = _failed_tasks(name, result)
        if failed:
            return failed
    except ParameterError as exc:
        print(f"{name}: error: {_name_options(str(exc), args.option_names)}", file=sys.stderr)
        return 2
    except report.OutputError as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{name}: interrupted" + (f" (partial results in {args.json})"
                                        if args.json and args.json != "-"
                                        and getattr(args, "resume", None) is not None else ""),
              file=sys.stderr)
        return 130
    except ModuleNotFoundError as exc:
        top = (exc.name or "").split(".")[0]
        if top not in OPTIONAL_PACKAGES:
            return _internal(name, exc)
        print(f"{name}: error: this needs the optional package {top!r}, which is not "
              f"installed: {OPTIONAL_PACKAGES[top]}", file=sys.stderr)
        return 2
    except Exception as exc:  # the CLI's last line of defence
        return _internal(name, exc)
    if args.exit_zero:
        return 0
    return {"deviates": 1, "undetermined": 4}.get(verdict, 0)


def _internal(name: str, exc: BaseException) -> int:
    traceback.print_exc()
    print(f"{name}: internal error: {type(exc).__name__}: {exc} (a bug in molrg; "
          "please report it with the command line)", file=sys.stderr)
    return 3


def _failed_tasks(name: str, result: Any) -> int:
    """Exit status for tasks of a multi-setting command that raised (0 when none did).

    The results of the others are reported (and in the JSON) first.  Every failure an
    invalid parameter (``ParameterError``): 2, with the messages; otherwise 3, with the
    first internal error's traceback -- never 1, which means that a claim deviates.
    """
    failures = getattr(result, "failures", None) or {}
    if not failures:
        return 0
    errors = {key: str(f.get("error", "")) for key, f in failures.items()}
    if all(e.startswith(("ParameterError:", "ParameterTypeError:")) for e in errors.values()):
        for key, error in errors.items():
            print(f"{name}: error: {key}: {error.split(': ', 1)[-1]}", file=sys.stderr)
        return 2
    key, failure = next((k, f) for k, f in failures.items()
                        if not errors[k].startswith(("ParameterError:", "ParameterTypeError:")))
    print(failure.get("traceback", "").rstrip(), file=sys.stderr)
    print(f"{name}: internal error: {len(failures)} of the tasks failed, first {key}: "
          f"{errors[key]} (a bug in molrg; please report it with the command line)",
          file=sys.stderr)
    return 3


class Result:
    """What every command's ``execute`` returns (documentation of the protocol)."""

    verdict: str  # "holds", "deviates", "undetermined" or "info" (checks no claim)

    def to_json(self) -> dict[str, Any]:  # pragma: no cover - protocol
        raise NotImplementedError

    def render(self, *, table: bool = True) -> list[Any]:  # pragma: no cover - protocol
        raise NotImplementedError

    def plot(self, path: str) -> None:  # pragma: no cover - protocol
        raise NotImplementedError
