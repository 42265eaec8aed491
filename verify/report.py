"""Reporting shared by the subcommands: rich tables and progress, JSON, figures, paths.

* Tables and the terminal report are :mod:`rich` renderables printed on stdout.
* Progress bars (:class:`Progress`) are rich progress bars on stderr with ETA, one task per
  phase; disabled with ``--quiet`` or when stderr is not a terminal.
* JSON (:func:`write_json`) converts NumPy values and writes ``null`` for non-finite floats.
* Output paths are checked before any work (:func:`check_output_path`).
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress
from rich.table import Table

from molrg import ParameterError

__all__ = [
    "FIGURE_SUFFIXES",
    "Progress",
    "check_output_path",
    "console",
    "fmt",
    "jsonable",
    "new_figure",
    "table",
    "write_json",
]

FIGURE_SUFFIXES = (".png", ".pdf", ".svg")


def console(*, stderr: bool = False) -> Console:
    """A rich console on stdout (results) or stderr (progress, errors); soft-wrapped, no
    colour when not a terminal, wide enough for the tables when output is redirected."""
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else 160
    return Console(file=stream, soft_wrap=False, width=width, highlight=False)


# ---------------------------------------------------------------------------------------
# Progress
# ---------------------------------------------------------------------------------------
class Progress:
    """Rich progress bars on stderr, one task per phase; a no-op when disabled.

    ``with Progress(enabled=...) as p: cb = p.phase("noisy: exact curve"); cb(done, total)``
    -- ``cb`` has the ``progress(done, total)`` signature of :func:`molrg.snr`.
    """

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self._rich: RichProgress | None = None

    def __enter__(self) -> Progress:
        if self.enabled:
            self._rich = RichProgress(
                TextColumn("{task.description:<28}"), BarColumn(), TaskProgressColumn(),
                MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("ETA"),
                TimeRemainingColumn(), console=console(stderr=True), transient=False)
            self._rich.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._rich is not None:
            self._rich.__exit__(*exc)  # type: ignore[arg-type]
            self._rich = None

    def phase(self, label: str, total: int | None = None) -> Callable[[int, int], None]:
        """A callback ``(done, total)`` driving a new task named ``label``."""
        if self._rich is None:
            return _ignore
        rich = self._rich
        task = rich.add_task(label, total=total)

        def update(done: int, total_: int) -> None:
            rich.update(task, completed=done, total=total_)

        return update


def _ignore(done: int, total: int) -> None:
    del done, total


# ---------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------
def fmt(value: Any, digits: int = 4) -> str:
    """A cell: ``yes``/``NO`` for booleans, ``-`` for NaN/None, ``.4g`` for floats."""
    if value is None:
        return "-"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "NO"
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return "-" if math.isnan(v) else f"{v:.{digits}g}"
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, title: str | None = None,
          digits: int = 4) -> Table:
    """A rich table; numbers right-aligned."""
    t = Table(title=title, title_justify="left", header_style="bold", pad_edge=False)
    for i, h in enumerate(headers):
        numeric = bool(rows) and all(isinstance(r[i], (int, float, np.number)) and
                                     not isinstance(r[i], bool) for r in rows)
        t.add_column(h, justify="right" if numeric else "left")
    for r in rows:  # cells are data, not markup: "[x]" in a name must stay visible
        t.add_row(*(escape(fmt(v, digits)) for v in r))
    return t


# ---------------------------------------------------------------------------------------
# JSON and paths
# ---------------------------------------------------------------------------------------
def jsonable(obj: Any) -> Any:
    """Convert NumPy scalars/arrays, dataclass-like ``to_json`` objects and non-finite
    floats into JSON-safe values."""
    if hasattr(obj, "to_json") and callable(obj.to_json):
        return jsonable(obj.to_json())
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return v if math.isfinite(v) else None
    return obj


COMPACT_JSON_BYTES = 1 << 20
"""JSON larger than this (compact) is written without indentation (a map is ~10 MB)."""


def write_json(path: str | Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` as JSON (NaN/inf become null), atomically; indented unless large."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = jsonable(payload)
    text = json.dumps(data, separators=(",", ":"))
    if len(text) <= COMPACT_JSON_BYTES:
        text = json.dumps(data, indent=2)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text + "\n")
    os.replace(tmp, path)


def check_output_path(option: str, path: str | None, *,
                      suffixes: Sequence[str] | None = None) -> None:
    """Raise :class:`molrg.ParameterError` naming ``option`` unless ``path`` can be written.

    Checked before any work: the folder exists or can be created and is writable, the path
    is not a folder, and (for figures) its suffix is one of ``suffixes``.
    """
    if path is None:
        return
    p = Path(path)
    if suffixes is not None and p.suffix.lower() not in suffixes:
        raise ParameterError(f"{option}={path!r} has no figure extension; valid: a path "
                             f"ending in {', '.join(suffixes)}")
    if p.is_dir():
        raise ParameterError(f"{option}={path!r} is a folder; valid: a file path")
    import tempfile

    parent = p.parent if str(p.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=parent, prefix=".molrg-write-check-"):
            pass
        if p.exists() and not os.access(p, os.W_OK):
            raise OSError("the file is read-only")
    except OSError as exc:
        raise ParameterError(f"{option}={path!r} is not writable ({exc.strerror or exc}); "
                             "valid: a path in a writable folder") from None


# ---------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------
def new_figure(ncols: int, nrows: int = 1, *, width: float = 5.5,
               height: float = 4.2) -> tuple[Any, Any]:
    """A headless matplotlib figure with ``nrows x ncols`` panels (a flat array of axes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows),
                             squeeze=False)
    return fig, axes.ravel()


def plain_log_ticks(axis: Any) -> None:
    """Label a log axis with plain numbers at 1, 2 and 5 times each decade."""
    from matplotlib.ticker import LogLocator

    axis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
    axis.set_major_formatter("{x:g}")
    axis.set_minor_formatter("{x:g}")


def save_figure(fig: Any, path: str | Path) -> None:
    """Save and close a figure (format by extension), creating the folder."""
    import matplotlib.pyplot as plt

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Progress]:
    """``with progress_bar(enabled) as p:`` -- a :class:`Progress` context."""
    with Progress(enabled=enabled) as p:
        yield p
