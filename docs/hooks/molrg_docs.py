"""MkDocs hook: the parts of the site that are generated from the code at build time.

Markers in a page's Markdown are replaced before it is rendered, so these parts cannot
drift from the code:

``<!-- molrg:cli-reference -->``
    ``--help`` of ``python -m verify`` and of every subcommand, from the live parser.
``<!-- molrg:help COMMAND -->``
    ``--help`` of one subcommand (in a collapsed block).
``<!-- molrg:bibtex -->``
    BibTeX entries for the package and the paper, from ``CITATION.cff``.
``<!-- molrg:version -->``
    ``molrg.__version__``.

Display math written inline (``- `zeta`: $$...$$`` in the generated ``docs/math.md``) is
rendered as inline ``\\displaystyle`` math; pymdownx.arithmatex only takes ``$$`` on
lines of their own.

An unknown marker, or a subcommand the parser does not have, fails the build.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # document the working tree, not an installed copy
    sys.path.insert(0, str(ROOT))
MARKER = re.compile(r"<!--\s*molrg:([a-z-]+)(?:\s+([^\s>]+))?\s*-->")
HELP_WIDTH = 88


class MarkerError(ValueError):
    """A page uses a marker this hook does not know, or names a missing subcommand."""


@contextmanager
def _columns(width: int) -> Iterator[None]:
    """argparse wraps help at ``$COLUMNS``: fix it so the page does not depend on the shell."""
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old


def subcommands() -> dict[str, argparse.ArgumentParser]:
    """``{name: subparser}`` of ``python -m verify``, in the parser's order."""
    from verify.cli import build_parser

    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def help_text(command: str | None = None) -> str:
    """``python -m verify [command] --help`` as printed, wrapped at :data:`HELP_WIDTH`."""
    from verify.cli import build_parser

    with _columns(HELP_WIDTH):
        if command is None:
            return build_parser().format_help()
        parsers = subcommands()
        if command not in parsers:
            raise MarkerError(f"python -m verify has no subcommand {command!r}; "
                              f"it has {', '.join(parsers)}")
        return parsers[command].format_help()


def _fence(text: str, indent: str = "") -> str:
    body = "\n".join(indent + line if line else "" for line in text.rstrip().splitlines())
    return f"{indent}```text\n{body}\n{indent}```"


def cli_reference() -> str:
    """The whole CLI reference: the top-level help, then one section per subcommand."""
    parts = ["## `python -m verify`", "", _fence(help_text()), ""]
    for name in subcommands():
        parts += [f"## `verify {name}`", "", _fence(help_text(name)), ""]
    return "\n".join(parts)


def command_help(command: str) -> str:
    """One subcommand's ``--help`` in a collapsed admonition."""
    return (f'??? info "`python -m verify {command} --help`"\n\n'
            f"{_fence(help_text(command), '    ')}\n")


def citation() -> dict[str, Any]:
    """``CITATION.cff`` as a dictionary."""
    import yaml

    return yaml.safe_load((ROOT / "CITATION.cff").read_text())


def _bibtex_authors(authors: list[dict[str, str]]) -> str:
    names = []
    for a in authors:
        if "family-names" in a:
            names.append(f"{a['family-names']}, {a.get('given-names', '')}".rstrip(", "))
        else:
            names.append("{" + a["name"] + "}")
    return " and ".join(names)


def bibtex() -> str:
    """BibTeX for the software (``CITATION.cff``'s top level) and each of its references."""
    cff = citation()
    year = str(cff.get("date-released", ""))[:4]
    entries = [
        "@software{molrg,\n"
        f"  title   = {{{{{cff['title']}}}}},\n"
        f"  author  = {{{_bibtex_authors(cff['authors'])}}},\n"
        f"  version = {{{cff['version']}}},\n"
        f"  year    = {{{year}}},\n"
        f"  url     = {{{cff['repository-code']}}},\n"
        f"  license = {{{cff['license']}}}\n"
        "}"
    ]
    for ref in cff.get("references", []):
        ident = next((i["value"] for i in ref.get("identifiers", [])
                      if str(i.get("value", "")).startswith("arXiv:")), "")
        key = (ref["authors"][0].get("family-names", "ref").lower() + str(ref.get("year", "")))
        fields = [f"  title   = {{{{{ref['title']}}}}}",
                  f"  author  = {{{_bibtex_authors(ref['authors'])}}}",
                  f"  year    = {{{ref.get('year', '')}}}"]
        if ident:
            fields += [f"  eprint  = {{{ident.removeprefix('arXiv:')}}}",
                       "  archivePrefix = {arXiv}"]
        if "url" in ref:
            fields.append(f"  url     = {{{ref['url']}}}")
        kind = "article" if "journal" in ref else "misc"  # an arXiv preprint: @misc
        if "journal" in ref:
            fields.append(f"  journal = {{{ref['journal']}}}")
        entries.append(f"@{kind}{{{key},\n" + ",\n".join(fields) + "\n}")
    return "```bibtex\n" + "\n\n".join(entries) + "\n```"


def expand(markdown: str) -> str:
    """Replace every ``<!-- molrg:... -->`` marker of a page."""

    def replace(match: re.Match[str]) -> str:
        kind, arg = match.group(1), match.group(2)
        if kind == "cli-reference":
            return cli_reference()
        if kind == "help" and arg:
            return command_help(arg)
        if kind == "bibtex":
            return bibtex()
        if kind == "version":
            import molrg

            return molrg.__version__
        raise MarkerError(f"unknown docs marker {match.group(0)!r}")

    return MARKER.sub(replace, markdown)


INLINE_DISPLAY = re.compile(r"(?<!\$)\$\$(?=\S)(.+?)(?<=\S)\$\$(?!\$)")


def inline_display_math(markdown: str) -> str:
    """``text $$x$$`` (display math inside a line) -> ``text $\\displaystyle x$``.

    Lines inside fenced code blocks and lines that are display math of their own are kept.
    """
    out, fence = [], None
    for line in markdown.split("\n"):
        stripped = line.lstrip()
        if stripped.startswith(("```", "~~~")):
            marker = stripped[:3]
            fence = None if fence == marker else (fence or marker)
        elif fence is None and "$$" in line and not stripped.startswith("$$"):
            line = INLINE_DISPLAY.sub(lambda m: f"$\\displaystyle {m.group(1)}$", line)
        out.append(line)
    return "\n".join(out)


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    """MkDocs event: expand the markers of every page; inline display math."""
    del kwargs
    return inline_display_math(expand(markdown))
