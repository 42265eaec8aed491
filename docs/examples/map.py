"""Worked example: ``python -m verify map`` -- where in (K, d, delta) Theorem 1 holds.

Run it with ``python docs/examples/map.py``.  The default grid has 20 x 20 x 20 cells and
both inputs; it is deterministic (exact SNR by quadrature).  ``--scheduler local
--workers N`` spreads it over N processes (``pip install ".[distributed]"``).
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

from verify.cli import main

SMALL = os.environ.get("MOLRG_EXAMPLE_SMALL") == "1"  # the test suite runs small sizes


def show(value: float | None, spec: str = ".3g") -> str:
    """A JSON number for printing; null (not defined, e.g. no interior peak) as "-"."""
    return "-" if value is None else format(value, spec)

COMMAND = "python -m verify map --json out/map.json --plot out/map.png"
# The test suite runs this instead: seconds, no figure.
SMALL_COMMAND = ("python -m verify map --json out/map.json --K 2,10 --d 5 --delta 0.2,0.5 "
                 "--scheduler serial")


def run() -> None:
    """The example (under a main guard: the default scheduler starts Dask worker processes,
    which re-import this script)."""
    status = main(shlex.split(SMALL_COMMAND if SMALL else COMMAND)[3:])  # [3:]: after "-m verify"
    print("exit status", status)

    report = json.loads(Path("out/map.json").read_text())
    print("verdict:", report["verdict"], "| K:", report["options"]["K"], "d:",
          report["options"]["d"])
    for mode, per in report["summary"]["inputs"].items():  # per input and form
        for form, s in per["forms"].items():
            print(f"{mode:>5} {form:>9}: peak within 15% in "
                  f"{show(s['peak_within_tol'], '.0%')} of {s['both_interior']} cells; "
                  f"median peak ratio {show(s['peak_ratio_median'])}")

    assert not report["failures"]


if __name__ == "__main__":
    run()
