"""The documentation stays true to the code: README set-up lines, CI, API listing, the
generated math reference."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_readme_starts_with_the_two_setup_commands() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    assert lines[0] == "```bash"
    assert "pip install ." in lines[1] and lines[1].endswith("python -m verify theorem1")
    assert 'pip install ".[test]"' in lines[2] and lines[2].endswith("python -m pytest -n auto")
    assert lines[3] == "```"


def test_ci_runs_the_readme_test_command() -> None:
    test_command = (ROOT / "README.md").read_text().splitlines()[2].split("&& ", 2)[-1]
    assert test_command in (ROOT / ".ci" / "run").read_text()



def test_docs_math_md_is_generated_from_the_derivation() -> None:
    """docs/math.md cannot drift: it must equal `python -m verify derive --markdown`."""
    from verify.derive import markdown

    path = ROOT / "docs" / "math.md"
    assert path.read_text() == markdown(), \
        "regenerate: python -m verify derive --markdown docs/math.md"
