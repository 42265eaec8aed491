"""Start-up and main-command wall times (issue 13), as subprocesses, interleaved.

``python benchmarks/startup.py [--repeats 7] [--out PATH]``

Runs, round-robin ``--repeats`` times (so a busy machine slows them alike), each command
below in a fresh interpreter (``sys.executable``, the repository root as working
directory, the caller's environment) and reports the minimum wall time of each and the
two ratios issue 13 sets targets for:

* ``python -m verify theorem1`` (defaults) over
  ``python -c "import numpy, scipy.integrate, matplotlib.pyplot"`` -- target <= 3;
* ``python -c "import molrg"`` over ``python -c "import numpy, scipy"`` -- target <= 1.5.
  ``import molrg`` is lazy (SPEC 1), so this is the package alone; the cost of loading the
  whole numerical core (every public name) is reported beside it, without a target.

``verify theorem1`` exits 1 at its defaults (the theorem deviates there); exit codes 0
and 1 both count as a completed run.  ``benchmarks/test_startup.py`` runs the same
measurement under pytest-benchmark.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

COMMANDS: dict[str, list[str]] = {
    "verify theorem1": ["-m", "verify", "theorem1"],
    "import numpy, scipy.integrate, matplotlib.pyplot":
        ["-c", "import numpy, scipy.integrate, matplotlib.pyplot"],
    "import molrg": ["-c", "import molrg"],
    "import numpy, scipy": ["-c", "import numpy, scipy"],
    "import molrg + every public name": ["-c", "from molrg import *"],
}
"""Name -> interpreter arguments."""

RATIOS = [
    ("verify theorem1", "import numpy, scipy.integrate, matplotlib.pyplot", 3.0),
    ("import molrg", "import numpy, scipy", 1.5),
    ("import molrg + every public name", "import numpy, scipy", None),
]
"""(candidate, baseline, target: candidate / baseline at most; None: reported only)."""


def run_once(name: str, args: list[str] | None = None) -> float:
    """Wall time of one run of ``COMMANDS[name]`` (plus ``args``) in a fresh interpreter."""
    cmd = [sys.executable, *COMMANDS[name], *(args or [])]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          check=False)
    elapsed = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr.decode()}")
    return elapsed


def measure(repeats: int, names: list[str] | None = None) -> dict[str, list[float]]:
    """Wall times of ``names`` (default: every command), interleaved, ``repeats`` rounds."""
    names = list(COMMANDS) if names is None else names
    times: dict[str, list[float]] = {n: [] for n in names}
    for name in names:  # warm the file-system cache (and matplotlib's font cache) once
        run_once(name)
    for _ in range(repeats):
        for name in names:
            times[name].append(run_once(name))
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", help="also write the figures as JSON to this file")
    args = parser.parse_args(argv)
    times = measure(args.repeats)
    best = {n: min(t) for n, t in times.items()}
    for name, t in best.items():
        median = sorted(times[name])[len(times[name]) // 2]
        print(f"{t:7.3f} s  (min of {args.repeats}; median {median:.3f})  {name}")
    rows = []
    for cand, base, target in RATIOS:
        ratio = best[cand] / best[base]
        met = None if target is None else ratio <= target
        rows.append({"candidate": cand, "baseline": base, "ratio": ratio, "target": target,
                     "met": met})
        verdict = "no target" if target is None else \
            f"target <= {target:g}: {'met' if met else 'NOT MET'}"
        print(f"{ratio:6.2f}x  ({verdict})  {cand} / {base}")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps({"python": sys.executable, "repeats": args.repeats,
                                              "seconds": times, "min": best, "ratios": rows},
                                             indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
