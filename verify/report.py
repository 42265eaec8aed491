"""Reporting shared by the subcommands: rich tables and progress, JSON, figures, paths.

* Tables and the terminal report are :mod:`rich` renderables printed on stdout.
* Progress bars (:class:`Progress`) are rich progress bars on stderr with ETA, one task per
  phase; disabled with ``--quiet`` or when stderr is not a terminal.
* JSON (:func:`write_json`) converts NumPy values and writes ``null`` for non-finite floats.
* Output paths are checked before any work (:func:`check_output_path`).
"""

from __future__ import annotations

import contextlib
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
    columns = os.environ.get("COLUMNS", "")
    width = int(columns) if columns.isdigit() and int(columns) >= 40 else (
        None if stream.isatty() else 160)
    return Console(file=stream, soft_wrap=False, width=width, highlight=False)


# ---------------------------------------------------------------------------------------
# Progress
# ---------------------------------------------------------------------------------------
class Progress:
    """Progress on stderr, one task per phase; a no-op when disabled (``--quiet``).

    ``with Progress(enabled=...) as p: cb = p.phase("noisy: exact curve"); cb(done, total)``
    -- ``cb`` has the ``progress(done, total)`` signature of :func:`molrg.snr`.

    On a terminal: rich progress bars with the elapsed time and an ETA.  When stderr is
    piped or redirected: plain lines, so a long run is never silent until its end -- once
    the projected total passes :data:`PIPED_ESTIMATE_S`, one line with the time estimate,
    then one every :data:`PIPED_EVERY_S` seconds and one at the end (short runs print
    nothing).
    """

    def __init__(self, *, enabled: bool = True) -> None:
        self.piped = enabled and not sys.stderr.isatty()
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
            return _piped(label) if self.piped else _ignore
        rich = self._rich
        task = rich.add_task(label, total=total)

        def update(done: int, total_: int) -> None:
            rich.update(task, completed=done, total=total_)

        return update


PIPED_ESTIMATE_S = 30.0
"""A piped run whose projected total exceeds this prints its time estimate."""
PIPED_EVERY_S = 30.0
"""Seconds between two plain progress lines of a piped run."""


def _duration(seconds: float) -> str:
    seconds = max(seconds, 0.0)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _piped(label: str) -> Callable[[int, int], None]:
    """Plain progress lines for a phase when stderr is not a terminal (see Progress)."""
    import time

    start = time.monotonic()
    state = {"last": -math.inf, "started": False, "first_done": -1}

    def update(done: int, total: int) -> None:
        now = time.monotonic()
        if state["first_done"] < 0:
            state["first_done"] = done  # resumed work is not timed
        fresh = done - state["first_done"]
        elapsed = now - start
        if fresh <= 0 or total <= 0:
            return
        projected = elapsed / fresh * (total - state["first_done"])
        left = projected - elapsed
        if not state["started"]:
            if projected < PIPED_ESTIMATE_S or done >= total:
                return
            state["started"] = True
            print(f"{label}: {done}/{total} in {_duration(elapsed)}; estimated total "
                  f"{_duration(projected)} (about {_duration(left)} left)", file=sys.stderr,
                  flush=True)
            state["last"] = now
        elif done >= total:
            print(f"{label}: {done}/{total} done in {_duration(elapsed)}", file=sys.stderr,
                  flush=True)
        elif now - state["last"] >= PIPED_EVERY_S:
            print(f"{label}: {done}/{total}, {_duration(elapsed)} elapsed, about "
                  f"{_duration(left)} left", file=sys.stderr, flush=True)
            state["last"] = now

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
    """A rich table; numbers right-aligned and never cut; text wraps.

    When the table is wider than the terminal (80 columns, say) it is printed as several
    tables, each with the leading key columns and as many of the others as fit, so no
    cell is ever truncated to an ellipsis (:class:`FitTable`).
    """
    return FitTable(list(headers), [list(r) for r in rows], title=title, digits=digits)


def _numeric(rows: Sequence[Sequence[Any]], i: int) -> bool:
    return bool(rows) and all(isinstance(r[i], (int, float, np.number)) and
                              not isinstance(r[i], bool) for r in rows)


class FitTable(Table):
    """A :class:`rich.table.Table` that never cuts a cell: when the console is too narrow
    for every cell on one line, headers and text wrap at spaces (numbers never wrap); when
    even that does not fit, the columns are split over several tables, each repeating the
    leading key columns (see :func:`table`)."""

    def __init__(self, headers: list[str], rows: list[list[Any]], *, title: str | None,
                 digits: int, columns: Sequence[int] | None = None) -> None:
        super().__init__(title=title, title_justify="left", header_style="bold",
                         pad_edge=False)
        self._spec = (headers, rows, digits)
        self._keep = list(range(len(headers)) if columns is None else columns)
        self._cells = [[fmt(r[i], digits) for i in self._keep] for r in rows]
        self._numeric = [_numeric(rows, i) for i in self._keep]
        for i, numeric in zip(self._keep, self._numeric, strict=True):
            self.add_column(headers[i], justify="right" if numeric else "left",
                            overflow="fold")
        for cells in self._cells:  # cells are data, not markup: "[x]" must stay visible
            self.add_row(*(escape(c) for c in cells))

    def _widths(self) -> tuple[list[int], list[int]]:
        """``(natural, least)`` content width of each column: every cell on one line, and
        the least without cutting (numbers whole; text and headers wrapped at spaces)."""
        headers = [self._spec[0][i] for i in self._keep]
        natural, least = [], []
        for j, header in enumerate(headers):
            cells = [row[j] for row in self._cells]
            lines = [line for c in [header, *cells] for line in c.split("\n")]
            natural.append(max(len(x) for x in lines))
            words = [w for x in lines for w in x.split()] or [""]
            widest_word = max(len(w) for w in words)
            if self._numeric[j]:
                widest_word = max(widest_word, *(len(c) for c in cells))
            least.append(widest_word)
        return natural, least

    def _overhead(self) -> int:
        n = len(self._keep)
        return 3 * n - 1  # padding between columns (2 each) and n + 1 borders

    def _part(self, columns: Sequence[int], title: str | None) -> FitTable:
        headers, rows, digits = self._spec
        return FitTable(headers, rows, title=title, digits=digits, columns=columns)

    def __rich_console__(self, console: Any, options: Any) -> Any:
        width = options.max_width - self._overhead()
        natural, least = self._widths()
        if sum(natural) <= width:
            yield from super().__rich_console__(console, options)
            return
        if sum(least) <= width:  # wrap headers and text; share the spare width
            spare = width - sum(least)
            room = [n - m for n, m in zip(natural, least, strict=True)]
            total = sum(room) or 1
            extra = [spare * r // total for r in room]
            for column, w, e in zip(self.columns, least, extra, strict=True):
                column.width = w + e
            yield from super().__rich_console__(console, options)
            return
        headers, rows, _ = self._spec
        if len(self._keep) < len(headers):  # a part that cannot shrink: print as is
            yield from super().__rich_console__(console, options)
            return
        keys = [0] + ([1] if len(headers) > 2 and not _numeric(rows, 1) else [])
        groups: list[list[int]] = [[]]
        for i in (i for i in range(len(headers)) if i not in keys):
            trial = self._part(keys + groups[-1] + [i], None)
            if groups[-1] and sum(trial._widths()[1]) > options.max_width - trial._overhead():
                groups.append([i])
            else:
                groups[-1].append(i)
        for n, group in enumerate(groups, 1):
            title = str(self.title or "") if n == 1 else f"(continued, {n}/{len(groups)})"
            yield self._part(keys + group, title)


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

FORMAT = "molrg-result"
"""The ``format`` key of every JSON file the commands write (see docs/json.md)."""
FORMAT_VERSION = 1
"""The envelope's version: bumped when a common key changes meaning or disappears."""
ENVELOPE_KEYS = ("format", "format_version", "command", "verdict", "partial", "arguments",
                 "provenance")
"""The common top-level keys of every command's JSON; the command's payload keys sit next
to them (docs/json.md, verify/schemas/)."""


class OutputError(Exception):
    """The environment refused an output or a resource (full disk, read-only folder,
    unreachable scheduler, missing optional package): the CLI exits 2 with this message,
    never 3 (not a bug in molrg)."""


def envelope(command: str, verdict: str | None, payload: dict[str, Any], *,
             arguments: dict[str, Any], partial: bool = False,
             argv: Sequence[str] | None = None) -> dict[str, Any]:
    """The JSON document of a run: the common keys (:data:`ENVELOPE_KEYS`) then ``payload``.

    ``verdict`` is ``None`` in a partial file (a run still going or interrupted).
    """
    head = {"format": FORMAT, "format_version": FORMAT_VERSION, "command": command,
            "verdict": verdict, "partial": partial}
    body = {k: v for k, v in payload.items() if k not in ENVELOPE_KEYS}
    return {**head, **body, "arguments": arguments,
            "provenance": provenance(arguments, argv=argv)}


KEY_LIBRARIES = ("numpy", "scipy", "sympy", "matplotlib", "rich", "scikit-learn",
                 "array-api-compat", "dask", "distributed", "torch", "cupy-cuda12x")
"""Libraries whose installed versions go into the provenance block (None: not installed)."""

_GIT_CACHE: dict[str, Any] = {}


def git_revision() -> dict[str, Any] | None:
    """``{"commit", "dirty"}`` of the git checkout molrg is imported from; None when molrg
    is not in a checkout (an installed wheel) or git is not available."""
    if "value" in _GIT_CACHE:
        return _GIT_CACHE["value"]
    import subprocess

    import molrg

    root = Path(molrg.__file__).resolve().parent.parent
    value = None
    if (root / ".git").exists():
        try:
            commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"],
                                    capture_output=True, text=True, timeout=5, check=True)
            status = subprocess.run(["git", "-C", str(root), "status", "--porcelain",
                                     "--untracked-files=no"],
                                    capture_output=True, text=True, timeout=5, check=True)
            value = {"commit": commit.stdout.strip(), "dirty": bool(status.stdout.strip())}
        except (OSError, subprocess.SubprocessError):
            value = None
    _GIT_CACHE["value"] = value
    return value


def provenance(arguments: dict[str, Any] | None = None, *,
               argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Where a result came from: molrg version, git revision, UTC time, Python, platform,
    key library versions, the full command line and the seeds (from ``arguments``)."""
    import datetime
    import platform
    import shlex
    from importlib import metadata

    import molrg

    def version(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    argv = list(sys.argv if argv is None else argv)
    seeds = {k: v for k, v in (arguments or {}).items() if "seed" in k}
    return {
        "molrg_version": molrg.__version__,
        "git": git_revision(),
        "timestamp_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "libraries": {name: version(name) for name in KEY_LIBRARIES},
        "argv": argv,
        "command_line": shlex.join(argv),
        "seeds": seeds,
    }


def dumps_json(payload: dict[str, Any]) -> str:
    """``payload`` as JSON text (NaN/inf become null); indented unless large."""
    data = jsonable(payload)
    text = json.dumps(data, separators=(",", ":"))
    if len(text) <= COMPACT_JSON_BYTES:
        text = json.dumps(data, indent=2)
    return text + "\n"


def write_json(path: str | Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` as JSON (NaN/inf become null) to ``path`` (``-``: stdout) like a
    careful Unix tool (see :func:`open_output`)."""
    text = dumps_json(payload)
    if str(path) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    with open_output(path, "--json") as f:
        f.write(text.encode())


@contextmanager
def open_output(path: str | Path, option: str = "output") -> Iterator[Any]:
    """A binary file object whose contents replace ``path`` when the block ends normally.

    * A regular file (or a new path): written to a unique temporary file in the same
      folder (:func:`tempfile.mkstemp`, so concurrent runs never share a name), flushed and
      renamed over the target; a symbolic link is followed (the link stays a link).
    * Anything else (a device such as ``/dev/null``, a FIFO, a socket) and any existing
      path under ``/dev/`` or ``/proc/`` (``/dev/stdout`` redirected to a file): opened and
      written directly -- never replaced by a regular file.
    * Any failure (full disk, read-only folder, an error in the block): the temporary file
      is removed and the target is left as it was; an ``OSError`` becomes
      :class:`OutputError` naming ``option`` (the CLI's exit 2).
    """
    import stat
    import tempfile

    try:
        mode = os.stat(path).st_mode  # follows links: /dev/stdout -> the pipe or terminal
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise OutputError(f"{option}={str(path)!r} cannot be written: {exc.strerror or exc}") \
            from None
    target = Path(os.path.realpath(path))
    if mode is not None and (not stat.S_ISREG(mode) or _stream_path(path)):
        sys.stdout.flush()  # what was printed comes first (/dev/stdout)
        sys.stderr.flush()
        try:  # append: never truncate what a redirected descriptor already holds
            with open(path, "ab") as f:
                yield f
        except OSError as exc:
            raise OutputError(f"{option}={str(path)!r} could not be written: "
                              f"{exc.strerror or exc}") from None
        return
    tmp = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                   suffix=".tmp")
        if mode is not None:
            os.chmod(tmp, stat.S_IMODE(mode))
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        raise OutputError(f"{option}={str(path)!r} could not be written: "
                          f"{exc.strerror or exc}; nothing was written") from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _stream_path(path: str | Path) -> bool:
    """``/dev/stdout``, ``/dev/fd/3``, ``/proc/self/fd/1``: a descriptor, written in place
    even when it is redirected to a regular file (renaming over that file would lose what
    was already written to it)."""
    text = os.path.abspath(path)
    return text.startswith(("/dev/", "/proc/"))


def check_output_path(option: str, path: str | None, *,
                      suffixes: Sequence[str] | None = None) -> None:
    """Raise :class:`molrg.ParameterError` naming ``option`` unless ``path`` can be written.

    Checked before any work: the folder exists or can be created and is writable, the path
    is not a folder, and (for figures) its suffix is one of ``suffixes``.
    """
    if path is None or (path == "-" and suffixes is None):
        return
    p = Path(path)
    if suffixes is not None and p.suffix.lower() not in suffixes:
        raise ParameterError(f"{option}={path!r} has no figure extension; valid: a path "
                             f"ending in {', '.join(suffixes)}")
    if p.is_dir():
        raise ParameterError(f"{option}={path!r} is a folder; valid: a file path")
    import stat
    import tempfile

    real = Path(os.path.realpath(p))
    try:
        special = not stat.S_ISREG(os.stat(p).st_mode) or _stream_path(p)
    except OSError:
        special = False
    if special:  # a device or FIFO: written in place, so only the node must be writable
        if not os.access(p, os.W_OK):
            raise ParameterError(f"{option}={path!r} is not writable; valid: a writable "
                                 "file, device or pipe")
        return
    parent = real.parent
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
SIGMA_LABEL = r"noise level $\sigma$"
"""The x label of every curve over the noise level (mathtext)."""
MATH_NAMES = {"sigma": r"$\sigma$", "delta": r"$\delta$", "K": "$K$", "d": "$d$", "n": "$n$",
              "N": "$N$"}


def math_name(name: str) -> str:
    """A parameter's name as mathtext for axis labels: ``delta`` -> ``$\\delta$``."""
    return MATH_NAMES.get(name, name)


STYLES = ("default", "paper")
"""Figure styles (``--style``): ``paper`` uses verify/paper.mplstyle (serif 8 pt text,
300 dpi) and fits every figure to a 7-inch page width."""
PAGE_WIDTH_IN = 7.0
_STYLE = {"name": "default"}


@contextmanager
def figure_style(name: str = "default") -> Iterator[None]:
    """Figures made inside the block use style ``name`` (:data:`STYLES`)."""
    if name not in STYLES:
        raise ParameterError(f"style={name!r} is not valid; valid: {', '.join(STYLES)}")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    previous = _STYLE["name"]
    _STYLE["name"] = name
    try:
        if name == "paper":
            with plt.style.context(str(Path(__file__).with_name("paper.mplstyle"))):
                yield
        else:
            yield
    finally:
        _STYLE["name"] = previous


def new_figure(ncols: int, nrows: int = 1, *, width: float = 5.5,
               height: float = 4.2) -> tuple[Any, Any]:
    """A headless matplotlib figure with ``nrows x ncols`` panels (a flat array of axes).

    A single row of more than 3 panels is wrapped into rows of 3 (readable at page width;
    the axes beyond the ``ncols`` asked for are removed).  In the ``paper`` style the
    figure is scaled to :data:`PAGE_WIDTH_IN`.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    wanted = ncols * nrows
    if nrows == 1 and ncols > 3:
        ncols, nrows = 3, -(-ncols // 3)
    w, h = width * ncols, height * nrows
    if _STYLE["name"] == "paper":
        scale = PAGE_WIDTH_IN / w
        w, h = PAGE_WIDTH_IN, h * scale
    fig, axes = plt.subplots(nrows, ncols, figsize=(w, h), squeeze=False)
    flat = axes.ravel()
    for ax in flat[wanted:]:
        fig.delaxes(ax)
    return fig, flat[:wanted]


def plain_log_ticks(axis: Any) -> None:
    """Label a log axis with plain numbers at 1, 2 and 5 times each decade."""
    from matplotlib.ticker import LogLocator

    axis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
    axis.set_major_formatter("{x:g}")
    axis.set_minor_formatter("{x:g}")


def save_figure(fig: Any, path: str | Path) -> None:
    """Save and close a figure (format by extension) like :func:`write_json`: a unique
    temporary file renamed over ``path`` (no 0-byte or half-written figure on failure),
    devices and pipes written in place; molrg's version goes into the file's metadata."""
    import matplotlib.pyplot as plt

    import molrg

    fmt_ = Path(path).suffix.lower().lstrip(".") or "png"
    creator = f"molrg {molrg.__version__} (matplotlib)"
    metadata = {"png": {"Software": creator, "Source": "molrg " + molrg.__version__},
                "svg": {"Creator": creator},
                "pdf": {"Creator": creator, "Producer": creator}}.get(fmt_)
    try:
        if not fig.get_layout_engine():
            fig.tight_layout()
        with open_output(path, "--plot") as f:
            dpi = 300 if _STYLE["name"] == "paper" else 120
            fig.savefig(f, format=fmt_, dpi=dpi, metadata=metadata)
        FIGURES_WRITTEN.append(str(path))
    finally:
        plt.close(fig)


FIGURES_WRITTEN: list[str] = []
"""Paths written by :func:`save_figure` (the CLI prints them: ``map --plot x.png`` writes
``x_noisy.png`` and ``x_clean.png``)."""


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Progress]:
    """``with progress_bar(enabled) as p:`` -- a :class:`Progress` context."""
    with Progress(enabled=enabled) as p:
        yield p
