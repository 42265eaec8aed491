"""Griffe extension for the API reference: molrg's docstring dialect to what griffe parses.

molrg's docstrings are numpydoc with two house habits that Markdown and griffe's numpy
parser do not know; this extension rewrites each docstring before it is parsed (the
source is unchanged):

* **reST roles** (``:func:`molrg.snr```) become *optional* mkdocs-autorefs
  cross-references: a link when the target is documented on the site, plain code
  otherwise (never a broken link).
* **Items written ``name : description``** (the type comes from the annotation, so the
  house style puts prose where numpydoc puts the type) become ``name`` with the
  description on the next, indented line.  A paragraph that follows a section's items
  without a heading of its own is given a ``Notes`` heading (numpydoc would otherwise read
  its first word as one more item).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|attr|data|obj|exc|const|ref):`([^`]+)`")
ROLE_ITEM = re.compile(rf"^{ROLE.pattern}\s*$")
ITEM_SECTIONS = {"parameters", "other parameters", "attributes", "returns", "yields",
                 "receives", "raises", "warns", "modules", "classes", "functions", "methods"}
NAMES = r"\*{0,2}[A-Za-z_][\w.]*(?:\s*,\s*\*{0,2}[A-Za-z_][\w.]*)*"
ITEM = re.compile(rf"^(?P<names>{NAMES})\s*:\s+(?P<text>.*)$")
BARE_ITEM = re.compile(rf"^(?:{NAMES})\s*$")
DASHES = re.compile(r"^\s*-{3,}\s*$")
RETURN_SECTIONS = {"returns", "yields", "receives"}


def rewrite_roles(text: str, module: str = "") -> str:
    """``:func:`~a.b.c``` -> ``<autoref identifier="a.b.c" optional><code>c</code></autoref>``.

    ``:role:`title <target>``` keeps ``title``; a leading ``~`` shows the last component
    only; a leading ``.`` or a name without a dot is looked up in ``module``.
    """

    def replace(match: re.Match[str]) -> str:
        body = match.group(1).strip()
        explicit = re.fullmatch(r"(.*?)\s*<([^>]+)>", body)
        target = explicit.group(2) if explicit else body
        short = target.startswith("~")
        target = target.lstrip("~").rstrip("()")
        if target.startswith("."):
            target = f"{module}{target}" if module else target.lstrip(".")
        elif "." not in target and module:
            target = f"{module}.{target}"
        if explicit:
            title = explicit.group(1)
        else:
            shown = body.lstrip("~")
            title = shown.rsplit(".", 1)[-1] if short else shown.lstrip(".")
        return f'<autoref identifier="{target}" optional><code>{title}</code></autoref>'

    return ROLE.sub(replace, text)


def _is_prose(line: str) -> bool:
    """A space outside brackets: a sentence, not a numpydoc type such as ``tuple[int, int]``."""
    depth = 0
    for ch in line.strip():
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif ch == " " and depth == 0:
            return True
    return False


def rewrite_items(text: str) -> str:
    """Rewrite ``name : description`` items and headless trailing paragraphs (see above).

    In ``Returns``-like sections (the type comes from the return annotation):
    ``name : text`` -> ``name :`` + text, and a prose line -> ``:`` + the paragraph.
    """
    lines = text.splitlines()
    out: list[str] = []
    section: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if i + 1 < len(lines) and DASHES.match(lines[i + 1]) and line.strip():
            section = line.strip().lower()
            out += [line, lines[i + 1]]
            i += 2
            continue
        if section in ITEM_SECTIONS and line and not line[0].isspace():
            role = ROLE_ITEM.match(line)
            if role:  # an item named by a role (``:mod:`~a.b```): the name itself
                target = role.group(1).strip()
                out.append(target.lstrip("~").rsplit(".", 1)[-1] if target.startswith("~")
                           else target)
                i += 1
                continue
            returns = section in RETURN_SECTIONS
            item = ITEM.match(line)
            after_blank = not out or not out[-1].strip() or DASHES.match(out[-1])
            if item:
                out += [item.group("names") + (" :" if returns else ""),
                        "    " + item.group("text")]
                i += 1
                continue
            if returns and (_is_prose(line) or ROLE.search(line)) and after_blank:
                out.append(":")
                while i < len(lines) and lines[i].strip():  # the whole paragraph
                    out.append("    " + lines[i].strip())
                    i += 1
                continue
            if after_blank and not DASHES.match(out[-1]) and not BARE_ITEM.match(line):
                out += ["Notes", "-----"]
                section = "notes"
        out.append(line)
        i += 1
    return "\n".join(out)


class MolrgDocstrings(griffe.Extension):
    """Rewrite every docstring griffe loads (items, then roles)."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Rewrite ``obj``'s docstring (before it is parsed)."""
        del kwargs
        if obj.docstring is not None and not obj.is_alias:
            module = obj.module.path if obj.module is not None else ""
            obj.docstring.value = rewrite_roles(rewrite_items(obj.docstring.value), module)
