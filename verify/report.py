"""Reporting helpers shared by the subcommands: progress bar, tables, JSON, figures."""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np

__all__ = ["Progress", "format_table", "jsonable", "new_figure", "write_json"]


class Progress:
    """A minimal terminal progress bar on stderr; silent when disabled or not a TTY.

    Call the instance as ``progress(done, total)`` (the signature ``molrg.snr`` expects).
    """

    def __init__(self, label: str, *, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled and self.stream.isatty()
        self.label = label
        self.start = time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        frac = done / total if total else 1.0
        width = 30
        bar = "#" * int(width * frac) + "-" * (width - int(width * frac))
        elapsed = time.perf_counter() - self.start
        self.stream.write(f"\r{self.label:<22} [{bar}] {100 * frac:5.1f}% {elapsed:6.1f}s")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return "-"
        return f"{v:.4g}"
    return str(value)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Fixed-width plain-text table."""
    cells = [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(headers)]
    line = "  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True))
    sep = "  ".join("-" * w for w in widths)
    body = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join([line, sep, *body])


def jsonable(obj: Any) -> Any:
    """Convert NumPy scalars/arrays and non-finite floats into JSON-safe values."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return v if math.isfinite(v) else None
    return obj


def write_json(path: str | Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` as indented JSON (NaN/inf become null)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(jsonable(payload), indent=2) + "\n")


def new_figure(ncols: int, *, width: float = 5.5, height: float = 4.2) -> tuple[Any, Any]:
    """A headless matplotlib figure with ``ncols`` panels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False)
    return fig, axes[0]


def plain_log_ticks(axis: Any) -> None:
    """Label a log axis with plain numbers at 1, 2 and 5 times each decade."""
    from matplotlib.ticker import LogLocator

    axis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
    axis.set_major_formatter("{x:g}")
    axis.set_minor_formatter("{x:g}")


def save_figure(fig: Any, path: str | Path) -> None:
    """Save and close a figure (PNG by extension), creating the folder."""
    import matplotlib.pyplot as plt

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
