"""``verify map --cache DIR``: the exact part of a cell is computed once and reused.

The exact peak and unimodality verdict of a cell do not depend on ``--form`` or
``--peak-tol``; re-judging a map under another form must give the same rows as a fresh run
while computing no exact curve (``exact_cell`` is replaced by a function that raises).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from verify import mapping
from verify.cli import main

SMALL = mapping.MapOptions(K=(3,), d=(2,), delta=(0.3, 0.6))


def _no_exact(*args: object) -> None:
    raise AssertionError("an exact curve was recomputed although it is in the cache")


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, mapping.MapResult]:
    cache = tmp_path_factory.mktemp("cache")
    return cache, mapping.run(replace(SMALL, cache=cache))


def test_a_run_fills_the_cache_one_file_per_K_d(first: tuple[Path, mapping.MapResult]) -> None:
    cache, result = first
    assert result.cached_cells == 0
    files = list(cache.rglob("*.json"))
    assert [f.name for f in files] == ["K3_d2.json"]
    entries = json.loads(files[0].read_text())
    assert set(entries) == {mapping.ExactCache.key(x, m) for x in SMALL.delta
                            for m in ("noisy", "clean")}
    assert entries == {mapping.ExactCache.key(r["delta"], r["input"]): r["exact"]
                       for r in result.rows}


def test_rejudging_under_another_form_reuses_every_exact_cell(
        first: tuple[Path, mapping.MapResult], monkeypatch: pytest.MonkeyPatch) -> None:
    cache, result = first
    monkeypatch.setattr(mapping, "exact_cell", _no_exact)
    again = mapping.run(mapping.MapOptions(K=SMALL.K, d=SMALL.d, delta=SMALL.delta,
                                           form="derived", peak_tol=0.05, cache=cache))
    assert again.cached_cells == 2 * SMALL.cells
    assert [r["exact"] for r in again.rows] == [r["exact"] for r in result.rows]
    # the forms are re-judged: peak_holds follows the new tolerance
    for r in again.rows:
        for form, f in r["forms"].items():
            if r["exact"]["interior"] and f["interior"]:
                assert f["peak_holds"] == (abs(f["peak_ratio"] - 1) <= 0.05), form


def test_a_cached_run_equals_a_fresh_run(first: tuple[Path, mapping.MapResult]) -> None:
    cache, result = first
    again = mapping.run(replace(SMALL, cache=cache))
    assert again.cached_cells == 2 * SMALL.cells
    assert json.dumps(again.rows, sort_keys=True) == json.dumps(result.rows, sort_keys=True)
    assert json.dumps(again.summary, sort_keys=True) == json.dumps(result.summary, sort_keys=True)


def test_a_new_grid_reuses_the_shared_cells_only(
        first: tuple[Path, mapping.MapResult], monkeypatch: pytest.MonkeyPatch) -> None:
    cache, _ = first
    computed: list[tuple[float, str]] = []
    real = mapping.exact_cell

    def counting(setting: object, mode: str) -> dict[str, object]:
        computed.append((setting.delta, mode))  # type: ignore[attr-defined]
        return real(setting, mode)  # type: ignore[arg-type]

    monkeypatch.setattr(mapping, "exact_cell", counting)
    out = mapping.run(mapping.MapOptions(K=(3,), d=(2,), delta=(0.3, 0.45), cache=cache))
    assert out.cached_cells == 2
    assert sorted(computed) == [(0.45, "clean"), (0.45, "noisy")]


def test_a_changed_evaluator_does_not_reuse_the_cache(
        first: tuple[Path, mapping.MapResult], monkeypatch: pytest.MonkeyPatch) -> None:
    cache, _ = first
    before = mapping.ExactCache(cache).dir
    monkeypatch.setattr(mapping, "UNIMODALITY_GRID", np.geomspace(1e-4, 1e3, 37))
    after = mapping.ExactCache(cache).dir
    assert after != before and not after.exists()
    monkeypatch.setattr(mapping, "EXACT", mapping.molrg.Quadrature())
    assert mapping.ExactCache(cache).dir not in (before, after)


def test_an_unreadable_cache_file_counts_as_empty(tmp_path: Path) -> None:
    store = mapping.ExactCache(tmp_path)
    store.dir.mkdir(parents=True)
    store.path(3, 2).write_text("{not json")
    assert store.load(3, 2) == {}


def test_cli_cache_option_and_the_json_arguments(tmp_path: Path,
                                                 first: tuple[Path, mapping.MapResult],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    cache, result = first
    monkeypatch.setattr(mapping, "exact_cell", _no_exact)
    out = tmp_path / "map.json"
    argv = ["map", "--K", "3", "--d", "2", "--delta", "0.3,0.6", "--scheduler", "serial",
            "--quiet", "--exit-zero", "--cache", str(cache), "--json", str(out)]
    assert main([*argv, "--form", "corrected"]) == 0
    data = json.loads(out.read_text())
    assert "cache" not in data.get("arguments", {})  # the cache does not change results
    rows = [r for rs in data["results"].values() for r in rs]
    assert [r["exact"] for r in rows] == [r["exact"] for r in result.rows]


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_cache_name_is_bad_input(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["map", "--K", "3", "--d", "2", "--delta", "0.3", "--scheduler", "serial",
                 "--quiet", "--cache", value]) == 2
    assert "cache=" in capsys.readouterr().err


def test_a_cache_that_is_a_file_is_bad_input(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "file"
    path.write_text("")
    assert main(["map", "--K", "3", "--d", "2", "--delta", "0.3", "--scheduler", "serial",
                 "--quiet", "--cache", str(path)]) == 2
    assert "is a file" in capsys.readouterr().err
