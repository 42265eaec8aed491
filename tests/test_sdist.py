"""The sdist's test suite runs: it carries conftest, test data, docs and CI files.

Opt-in (``MOLRG_SDIST=1``; ``.ci/run`` sets it, and its sdist lane also runs the whole
suite from the unpacked sdist): building an sdist takes seconds, more than the default
run's budget.  The sdist is built from a copy of the tracked files without ``.git``
(``python -m build --sdist --no-isolation``); the test checks that it holds every file git
tracks (besides ``.gitignore``) and runs a subset of the tests -- those that read the
README, CI script, docs pages, docs data, test data and Makefile -- from the unpacked
sdist, with its own ``molrg`` first on the path.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
NOT_SHIPPED = {".gitignore"}
# tests that read files outside the package: README/.ci (test_docs), docs pages and
# mkdocs.yml (test_site, without the strict build), tests/data (reference values),
# docs/data (test_claims), the Makefile (test_results_pipeline)
SUBSET = ["tests/test_docs.py", "tests/test_site.py", "-k",
          "not built and not mkdocs_build and not serves_katex and not browser"
          " and not signatures",
          "tests/test_quadrature.py::test_against_reference_values",
          "tests/test_results_pipeline.py::test_every_result_is_made_once_and_then_up_to_date",
          "tests/test_init.py"]

BUILDS = [
    pytest.mark.skipif(os.environ.get("MOLRG_SDIST") != "1",
                       reason="builds an sdist (seconds): MOLRG_SDIST=1 (set by .ci/run)"),
    pytest.mark.skipif(importlib.util.find_spec("build") is None,
                       reason="needs the build package (the dev extra)"),
]


def test_every_package_directory_is_packaged() -> None:
    """pyproject.toml lists the packages explicitly: a new subpackage left out of the list
    is missing from the wheel and the sdist (molrg.quadrature was, once)."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
                 ["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts)
             for top in ("molrg", "verify") for p in (ROOT / top).rglob("__init__.py")}
    assert found <= listed, f"packages missing from pyproject.toml: {sorted(found - listed)}"


def _source_tree(dest: Path) -> Path:
    """The files git tracks (or, outside a checkout, this tree), copied without ``.git``:
    setuptools' git file finders (setuptools-scm, when installed) would add every tracked
    file to the sdist by themselves and hide a gap in MANIFEST.in."""
    if shutil.which("git") is not None and (ROOT / ".git").exists():
        files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                               check=True).stdout.split()
        for name in files:
            if (ROOT / name).is_file():
                (dest / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / name, dest / name)
        return dest
    return ROOT


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sdist")
    source = _source_tree(tmp_path_factory.mktemp("source"))
    proc = subprocess.run([sys.executable, "-m", "build", "--sdist", "--no-isolation",
                           "--skip-dependency-check",
                           "--outdir", str(out), str(source)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (archive,) = out.glob("molrg-*.tar.gz")
    return archive


@BUILDS[0]
@BUILDS[1]
def test_the_sdist_holds_every_tracked_file(sdist: Path) -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout (an unpacked sdist has no file list to compare)")
    tracked = set(subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True,
                                 text=True, check=True).stdout.split())
    with tarfile.open(sdist) as tar:
        shipped = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    missing = sorted(f for f in tracked - shipped - NOT_SHIPPED if (ROOT / f).exists())
    assert not missing, f"MANIFEST.in leaves tracked files out of the sdist: {missing}"
    for needed in ("tests/conftest.py", "tests/data/legacy_snr.json", ".ci/run",
                   "docs/data/proposition1.json", "mkdocs.yml", "Makefile"):
        assert needed in shipped, needed


@BUILDS[0]
@BUILDS[1]
def test_tests_run_from_the_unpacked_sdist(sdist: Path, tmp_path: Path) -> None:
    with tarfile.open(sdist) as tar:
        tar.extractall(tmp_path, filter="data")
    (tree,) = tmp_path.glob("molrg-*")
    assert not (tree / ".git").exists()
    env = {**os.environ, "PYTHONPATH": str(tree), "MOLRG_SDIST": "0"}
    env.pop("MOLRG_SITE_DIR", None)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-x", *SUBSET], cwd=tree, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout
    # what ran is the sdist's copy, not this tree's
    where = subprocess.run([sys.executable, "-c", "import molrg; print(molrg.__file__)"],
                           cwd=tree, env=env, capture_output=True, text=True, check=True)
    assert Path(where.stdout.strip()).is_relative_to(tree)
