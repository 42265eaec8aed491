"""The worked examples under ``docs/examples/`` run, so the code on the site cannot rot.

Each script runs in-process at small sizes (``MOLRG_EXAMPLE_SMALL=1``, which the scripts
read) in a temporary working directory (they write ``out/...``).  A script whose
subcommand is still a stub (its ``help`` says "(being built)") is skipped, so it runs
automatically once the command exists.
"""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from verify.command import Command

ROOT = Path(__file__).parents[1]
EXAMPLES = ROOT / "docs" / "examples"
SCRIPTS = sorted(EXAMPLES.glob("*.py"))
STUB_MARK = "(being built)"


def commands() -> dict[str, Command[Any]]:
    """``{subcommand name: command}`` of ``python -m verify``."""
    from verify.commands import COMMANDS

    return {command.name: command for command in COMMANDS}


def script_for(command: str) -> Path:
    """``peak-law`` -> ``docs/examples/peak_law.py``."""
    return EXAMPLES / f"{command.replace('-', '_')}.py"


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_example_runs(script: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                      capsys: pytest.CaptureFixture[str]) -> None:
    command = script.stem.replace("_", "-")
    module = commands().get(command)
    if module is not None and STUB_MARK in module.help:
        pytest.skip(f"python -m verify {command} is still a stub: {module.help}")
    monkeypatch.setenv("MOLRG_EXAMPLE_SMALL", "1")
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(script), run_name="__main__")
    assert capsys.readouterr().out.strip(), f"{script.name} printed nothing"


def test_every_subcommand_has_an_example_script_and_page() -> None:
    nav = (ROOT / "mkdocs.yml").read_text()
    for command in commands():
        script, page = script_for(command), EXAMPLES / f"{command}.md"
        assert script.is_file(), f"no worked example {script.relative_to(ROOT)}"
        assert page.is_file(), f"no example page {page.relative_to(ROOT)}"
        text = page.read_text()
        assert f'--8<-- "docs/examples/{script.name}"' in text, \
            f"{page.name} does not include {script.name}"
        assert f"<!-- molrg:help {command} -->" in text
        assert f"examples/{command}.md" in nav, f"{page.name} is not in the mkdocs nav"


def test_every_script_is_an_example_of_something() -> None:
    """No orphan scripts: each is a subcommand's example or the getting-started script."""
    known = {script_for(c).name for c in commands()} | {"getting_started.py", "tour.py"}
    assert {s.name for s in SCRIPTS} <= known, {s.name for s in SCRIPTS} - known
