"""The results pipeline (``Makefile``): file targets, exit statuses, staleness.

Run on a scratch copy of the Makefile with a stand-in interpreter (``PYTHON=fake``) that
writes the ``--json``/``--out`` and ``--plot`` files it is given, logs its command line and
exits with the status ``FAKE_STATUS_<command>`` names (default 0).  So the test takes
seconds and checks the Makefile's logic: 0 and 1 are results, 2 and 3 fail the target and
leave no JSON behind, a second ``make`` reruns nothing, a newer source reruns only the
results that depend on it, a new ``MAP_FORM`` reruns only the map, with the cache.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
FAKE = r"""#!/bin/sh
# stand-in for python: "-m verify CMD ..." or "SCRIPT.py ..."
if [ "$1" = "-m" ]; then name=$3; else name=$(basename "$1" .py); fi
echo "$name $*" >> "$FAKE_LOG"
prev=""
for arg in "$@"; do
    case "$prev" in --json|--out|--plot) mkdir -p "$(dirname "$arg")"; echo "{}" > "$arg";; esac
    prev=$arg
done
echo "console output of $name"
eval "exit \${FAKE_STATUS_$(echo "$name" | tr - _):-0}"
"""

COMMANDS = 24
"""Commands ``make results`` runs from scratch (one per result group of the Makefile)."""

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    for src in ("molrg/__init__.py", "molrg/symbolic/__init__.py", "verify/__init__.py",
                "verify/__main__.py", "verify/cli.py", "verify/parallel.py", "verify/report.py",
                "verify/theorem1.py", "verify/mapping.py", "verify/sweep.py",
                "verify/peaklaw.py", "verify/proposition1.py", "verify/survey.py",
                "verify/probe.py", "verify/memorization.py", "verify/mixtures.py",
                "verify/separated.py", "verify/ensemble.py", "verify/speciation.py",
                "verify/collapse.py", "verify/trained.py", "verify/generalization.py",
                "verify/learning.py",
                "benchmarks/quadrature_vs_montecarlo.py"):
        (tmp_path / src).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / src).write_text("")
    fake = tmp_path / "fake"
    fake.write_text(FAKE)
    fake.chmod(0o755)
    old = time.time() - 100  # the sources are older than anything make writes
    for path in tmp_path.rglob("*.py"):
        os.utime(path, (old, old))
    return tmp_path


def make(tree: Path, *targets: str, **status: int) -> tuple[int, list[str], str]:
    """``(exit status, commands the fake ran, stderr)`` of ``make TARGETS`` in ``tree``."""
    log = tree / "fake.log"
    log.write_text("")
    env = {**os.environ, "FAKE_LOG": str(log),
           **{f"FAKE_STATUS_{k}": str(v) for k, v in status.items()}}
    proc = subprocess.run(["make", "-s", f"PYTHON={tree / 'fake'}", *targets], cwd=tree,
                          env=env, capture_output=True, text=True, timeout=60)
    return proc.returncode, log.read_text().splitlines(), proc.stderr


def test_every_result_is_made_once_and_then_up_to_date(tree: Path) -> None:
    status, ran, _ = make(tree, "results")
    assert status == 0, ran
    assert len(ran) == COMMANDS
    assert (tree / "docs/data/fig3.json").is_file() and (tree / "docs/figures/fig3.png").is_file()
    assert (tree / "docs/data/fig3.txt").read_text() == "console output of theorem1\n"
    status, ran, _ = make(tree, "results")
    assert status == 0 and ran == []


def test_exit_1_a_claim_deviates_is_a_result(tree: Path) -> None:
    status, ran, _ = make(tree, "docs/data/peak_law.json", peak_law=1)
    assert status == 0 and len(ran) == 1
    assert (tree / "docs/data/peak_law.json").is_file()
    assert make(tree, "docs/data/peak_law.json", peak_law=1)[1] == []


@pytest.mark.parametrize("code", [2, 3, 137])
def test_exit_2_3_or_a_crash_fails_and_leaves_no_json(tree: Path, code: int) -> None:
    status, ran, err = make(tree, "docs/data/proposition1.json", proposition1=code)
    assert status != 0 and len(ran) == 1
    assert f"FAILED with exit status {code}" in err
    assert not (tree / "docs/data/proposition1.json").exists()  # so the next make reruns it
    assert "console output of proposition1" in (tree / "docs/data/proposition1.txt").read_text()
    assert make(tree, "docs/data/proposition1.json")[1] != []


def test_exit_1_without_a_json_is_a_crash_not_a_result(tree: Path) -> None:
    # Python exits 1 on an uncaught exception (an ImportError before the CLI runs)
    fake = tree / "fake"
    fake.write_text(fake.read_text().replace('echo "{}" > "$arg"', ':'))
    status, ran, err = make(tree, "docs/data/proposition1.json", proposition1=1)
    assert status != 0 and len(ran) == 1
    assert "no docs/data/proposition1.json written" in err


def test_a_failure_stops_make_and_with_k_the_rest_still_runs(tree: Path) -> None:
    status, ran, _ = make(tree, "results", theorem1=3)
    assert status != 0 and len(ran) == 1
    proc = subprocess.run(["make", "-s", "-k", f"PYTHON={tree / 'fake'}", "results"], cwd=tree,
                          env={**os.environ, "FAKE_LOG": str(tree / "k.log"),
                               "FAKE_STATUS_theorem1": "3"}, capture_output=True, text=True)
    assert proc.returncode != 0
    assert len((tree / "k.log").read_text().splitlines()) == COMMANDS  # every other target ran


def _edit(path: Path) -> None:
    """Make ``path`` newer than every file in the tree (a bare touch can share the coarse
    file-system timestamp of an output written a moment before)."""
    newest = max(p.stat().st_mtime for p in path.parents[1].rglob("*") if p.is_file())
    os.utime(path, (newest + 1, newest + 1))


def test_a_newer_source_reruns_only_what_depends_on_it(tree: Path) -> None:
    assert make(tree, "results")[0] == 0
    _edit(tree / "verify/sweep.py")
    status, ran, _ = make(tree, "results")
    assert status == 0
    assert sorted(r.split()[0] for r in ran) == ["sweep"] * 4
    _edit(tree / "molrg/__init__.py")
    assert len(make(tree, "results")[1]) == COMMANDS  # the library: everything


def test_another_map_form_reruns_only_the_map_with_the_cache(tree: Path) -> None:
    assert make(tree, "results")[0] == 0
    status, ran, _ = make(tree, "map", "MAP_FORM=derived")
    assert status == 0 and len(ran) == 1
    assert "--form derived" in ran[0] and "--cache .cache/map" in ran[0]
    assert make(tree, "map", "MAP_FORM=derived")[1] == []
    assert make(tree, "results", "MAP_FORM=derived")[1] == []
    assert len(make(tree, "results")[1]) == 1  # back to the default form: the map again


def test_an_undetermined_verdict_is_a_result(tree: Path) -> None:
    """Exit 4 (undetermined: too few samples or untrustworthy Monte Carlo) is a result like
    0 and 1: the JSON is kept and make goes on."""
    status, ran, err = make(tree, "docs/data/fig3.json", theorem1=4)
    assert status == 0, err
    assert (tree / "docs/data/fig3.json").exists() and len(ran) == 1
