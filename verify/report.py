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
    * Anything else (a device such as ``/dev/null``, a FIFO, a socket): opened and written
      directly -- never replaced by a regular file.
    * Any failure (full disk, read-only folder, an error in the block): the temporary file
      is removed and the target is left as it was; an ``OSError`` becomes
      :class:`OutputError` naming ``option`` (the CLI's exit 2).
    """
    import stat
    import tempfile

    target = Path(os.path.realpath(path))
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise OutputError(f"{option}={str(path)!r} cannot be written: {exc.strerror or exc}") \
            from None
    if mode is not None and not stat.S_ISREG(mode):
        try:
            with open(target, "wb") as f:
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
        special = not stat.S_ISREG(os.stat(real).st_mode)
    except OSError:
        special = False
    if special:  # a device or FIFO: written in place, so only the node must be writable
        if not os.access(real, os.W_OK):
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
