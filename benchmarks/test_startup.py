"""Issue 13: the main command's and ``import molrg``'s wall times against the bare imports.

Subprocess wall times, interleaved (baseline, candidate, baseline, candidate, ...),
minimum over rounds; the conftest prints the ratios against issue 13's targets.  The same
measurement as a script: ``python benchmarks/startup.py``.  Smoke mode
(``--benchmark-disable``) runs each command once, the main command on a 10-point grid.
"""

from __future__ import annotations

from benchmarks.startup import run_once


def test_issue13_main_command_vs_scientific_imports(race, smoke) -> None:
    args = ["--num-sigma", "10"] if smoke else None
    race("issue13 main command",
         ("verify theorem1", lambda: run_once("verify theorem1", args)),
         {"import numpy, scipy.integrate, matplotlib.pyplot":
          lambda: run_once("import numpy, scipy.integrate, matplotlib.pyplot")},
         units=1, unit="runs", rounds=5)


def test_issue13_import_molrg_vs_numpy_scipy(race) -> None:
    race("issue13 import", ("import molrg", lambda: run_once("import molrg")),
         {"import numpy, scipy": lambda: run_once("import numpy, scipy")},
         units=1, unit="runs", rounds=9)
