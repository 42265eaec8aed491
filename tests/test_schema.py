"""verify/schema.py and molrg.load_results: every command's JSON validates against its
published schema (checked with the reference implementation, jsonschema), the schemas are
current, and every file in docs/data/ loads into pandas (and xarray where gridded)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

import molrg
from verify import cli, commands, report, schema

jsonschema = pytest.importorskip("jsonschema")
pd = pytest.importorskip("pandas")

DOCS_DATA = sorted(Path(__file__).resolve().parent.parent.joinpath("docs", "data").glob("*.json"))


REPORTS: dict[str, str] = {}
"""What each command printed on an 80-column console (filled by the fixture)."""


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One JSON file per command, written by the CLI (the first of schema.EXAMPLES), with
    its full report (tables included) rendered at 80 columns into REPORTS."""
    import contextlib
    import io
    import os

    folder = tmp_path_factory.mktemp("json")
    out = {}
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "80"
    try:
        for command, argvs in schema.EXAMPLES.items():
            if command in schema.NEEDS_TORCH and importlib.util.find_spec("torch") is None:
                continue  # the train extra is not installed: nothing to record
            path = folder / f"{command}.json"
            text = io.StringIO()
            with contextlib.redirect_stdout(text):
                code = cli.main([command, *argvs[0], "--json", str(path)])
            assert code in (0, 1, 4), command  # 4: undetermined (small samples)
            out[command] = path
            REPORTS[command] = text.getvalue()
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous
    return out


@pytest.mark.parametrize("command", sorted(schema.EXAMPLES))
def test_every_report_reads_at_80_columns(command: str, documents: dict[str, Path]) -> None:
    """Issue 24: at 80 columns the survey, sweep and map tables cut cells to an ellipsis
    ('noisy…', '0.34…'); now no line is wider than 80 and no cell is cut."""
    if command not in REPORTS:
        pytest.skip(f"{command} needs the train extra (torch)")
    text = REPORTS[command]
    assert "\u2026" not in text, text
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "\u2502" in text or command in ("derive", "proposition1"), "no table rendered"


def test_wide_tables_split_rather_than_cut() -> None:
    import io

    from rich.console import Console

    rows = [("noisy/ratio-of-means/printed", *(1234.5678 + i for i in range(12)))]
    t = report.table(["case", *(f"column {i}" for i in range(12))], rows, title="wide")
    out = io.StringIO()
    Console(file=out, width=80, color_system=None).print(t)
    text = out.getvalue()
    assert "\u2026" not in text and "continued" in text
    assert all(f"{1234.5678 + i:.4g}" in text for i in range(12))  # every number whole


def test_every_command_has_a_published_schema() -> None:
    assert set(schema.EXAMPLES) == {m.name for m in commands.COMMANDS}
    for command in schema.EXAMPLES:
        published = schema.load_schema(command)
        assert published is not None, f"run python -m verify.schema ({command})"
        jsonschema.Draft202012Validator.check_schema(published)
        docs = Path(schema.DOCS_SCHEMA_DIR, f"{command}.json")
        assert json.loads(docs.read_text()) == published  # the site publishes the same


@pytest.mark.parametrize("command", sorted(schema.EXAMPLES))
def test_every_command_json_validates_against_its_schema(command: str,
                                                         documents: dict[str, Path]) -> None:
    if command not in documents:
        pytest.skip(f"{command} needs the train extra (torch)")
    data = json.loads(documents[command].read_text())
    published = schema.load_schema(command)
    jsonschema.validate(data, published)
    assert schema.validate(data, published) == []  # the built-in subset agrees
    assert list(data)[:5] == ["format", "format_version", "command", "verdict", "partial"]
    assert data["provenance"]["molrg_version"] == molrg.__version__
    assert data["provenance"]["command_line"].startswith("python -m verify " + command)


def test_schema_rejects_a_changed_type(documents: dict[str, Path]) -> None:
    """The schema can fail: a payload key of the wrong type and a missing key are caught."""
    data = json.loads(documents["theorem1"].read_text())
    published = schema.load_schema("theorem1")
    broken = {**data, "modes": {"noisy": {**data["modes"]["noisy"], "sigma": "0.1"}}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, published)
    assert schema.validate(broken, published)
    missing = {k: v for k, v in data.items() if k != "provenance"}
    assert any("provenance" in p for p in schema.validate(missing, published))


@pytest.mark.parametrize("path", DOCS_DATA, ids=[p.name for p in DOCS_DATA])
def test_load_results_reads_every_file_in_docs_data(path: Path) -> None:
    frame = molrg.load_results(path)
    assert isinstance(frame, pd.DataFrame) and len(frame) > 0
    data = json.loads(path.read_text())
    command = data.get("command")
    if command is not None:  # the stored payload matches its command's schema
        for key in ("results", "runs"):  # a sample of a large task map is enough
            if isinstance(data.get(key), dict):
                data[key] = dict(list(data[key].items())[:40])
        published = schema.load_schema(command)
        payload_only = {**published, "required": [k for k in published["required"]
                                                  if k not in report.ENVELOPE_KEYS]}
        assert schema.validate(data, payload_only) == []
    if command == "theorem1":
        assert len(frame) == sum(len(m["sigma"]) for m in data["modes"].values())


def test_load_results_gives_a_gridded_dataset(documents: dict[str, Path]) -> None:
    pytest.importorskip("xarray")
    theorem1 = molrg.load_results(documents["theorem1"], to="xarray")
    assert dict(theorem1.sizes) == {"input": 2, "sigma": 6}
    raw = json.loads(documents["theorem1"].read_text())
    assert list(theorem1["snr"].sel(input="noisy").values) == pytest.approx(
        raw["modes"]["noisy"]["snr_simulated"])
    cells = molrg.load_results(documents["map"], to="xarray")
    assert dict(cells.sizes) == {"input": 2, "K": 2, "d": 2, "delta": 2}
    with pytest.raises(molrg.ParameterError, match="not gridded"):
        molrg.load_results(documents["proposition1"], to="xarray")


def test_load_results_refuses_what_is_not_a_result(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text("[1, 2]")
    with pytest.raises(molrg.ParameterError, match="not a molrg result"):
        molrg.load_results(bad)
    bad.write_text("{")
    with pytest.raises(molrg.ParameterError, match="cannot be read"):
        molrg.load_results(bad)
