"""Every public function of molrg has an Examples section, and every example runs as shown.

The examples are doctests (``>>>`` lines with their output) in the numpydoc ``Examples``
section of each docstring; the API reference renders them.  Each public object of
``molrg.__all__`` is collected with :class:`doctest.DocTestFinder` (its own docstring, no
recursion) and run with ``NORMALIZE_WHITESPACE`` (NumPy's array spacing).  Examples show
numbers rounded to what the docstring claims, with a hand-checkable value where one exists.
"""

from __future__ import annotations

import doctest
import importlib.util
import inspect

import pytest

import molrg

FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
PUBLIC = {name: getattr(molrg, name) for name in molrg.__all__ if name != "__version__"}
FUNCTIONS = sorted(name for name, obj in PUBLIC.items() if inspect.isfunction(obj))


def _doctests(name: str) -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder(recurse=False, exclude_empty=True)
    return [t for t in finder.find(PUBLIC[name], f"molrg.{name}", module=False,
                                   globs={}) if t.examples]


# Public functions added after the Examples pass (issue 24) whose example needs a small,
# fast configuration chosen by their author: each runs a simulation, a Dask-free ensemble
# of probes or trains a network.  Shrink-only: the test fails when one gains an example
# and is still listed, and when a new function without an example is not listed.
PENDING: set[str] = set()


def _has_examples(name: str) -> bool:
    doc = inspect.getdoc(PUBLIC[name]) or ""
    return "\nExamples\n--------\n" in doc and bool(_doctests(name))


def test_every_public_function_has_an_examples_section() -> None:
    assert len(FUNCTIONS) >= 15
    missing = {name for name in FUNCTIONS if not _has_examples(name)}
    assert not missing - PENDING, \
        f"public functions without a doctested Examples section: {sorted(missing - PENDING)}"
    done = PENDING - missing
    assert not done, f"remove from PENDING (they have examples now or are gone): {sorted(done)}"


NEEDS_TORCH = {"train_denoiser", "size_study"}
"""Public functions whose examples need PyTorch (skipped without the ``train`` extra)."""


@pytest.mark.parametrize("name", sorted(n for n in PUBLIC if _doctests(n)))
def test_examples_run_as_shown(name: str) -> None:
    if name in NEEDS_TORCH and importlib.util.find_spec("torch") is None:
        pytest.skip(f"{name}'s example trains a network: needs the train extra (torch)")
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in _doctests(name):
        result = runner.run(test, out=lambda text: None)
        if result.failed:  # rerun for the report
            report: list[str] = []
            doctest.DocTestRunner(optionflags=FLAGS).run(test, out=report.append)
            pytest.fail("".join(report), pytrace=False)
