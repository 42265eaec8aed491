"""Reload the JSON files written by ``python -m verify <command> --json``.

:func:`load_results` reads one file (the common envelope of docs/json.md, or a file written
before the envelope existed) into a tidy :class:`pandas.DataFrame` -- one row per
(setting, input, sigma) for the commands that compute curves, one row per setting or case
otherwise -- or, with ``to="xarray"``, into an :class:`xarray.Dataset` where the data are
gridded (curves over sigma, the map's K x d x delta box).  pandas and xarray are optional
(``pip install 'molrg[results]'``); ``import molrg`` imports neither.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

from .validation import ParameterError, ParameterTypeError

__all__ = ["load_results", "read_results"]

ENVELOPE_KEYS = ("format", "format_version", "command", "verdict", "partial", "arguments",
                 "provenance")
GRIDDED = {"theorem1": ("input", "sigma"), "map": ("input", "K", "d", "delta"),
           "memorization": ("run", "sigma"), "mixtures": ("run", "sigma"),
           "separated": ("run", "sigma"), "probe": ("run", "sigma")}
"""Commands whose data are gridded, and the dimensions of their xarray Dataset."""


def read_results(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON document at ``path`` (a dict), checked to be a molrg result.

    Raises
    ------
    ParameterError
        When ``path`` cannot be read or is not a molrg result file.
    """
    if not isinstance(path, (str, os.PathLike)) or isinstance(path, bytes):
        raise ParameterTypeError(f"path={path!r} must be a file path (str or os.PathLike)")
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as exc:
        raise ParameterError(f"path={os.fspath(path)!r} cannot be read as JSON: {exc}") \
            from None
    if not isinstance(data, dict) or not ("command" in data or "rows" in data):
        raise ParameterError(f"path={os.fspath(path)!r} is not a molrg result file (no "
                             "'command' key); valid: a file written by python -m verify "
                             "<command> --json")
    if data.get("format", "molrg-result") != "molrg-result":
        raise ParameterError(f"path={os.fspath(path)!r} has format={data['format']!r}; "
                             "valid: 'molrg-result'")
    return data


def load_results(path: str | os.PathLike[str], *, to: str = "pandas") -> Any:
    """Load a ``verify`` JSON file as a tidy table (or a gridded dataset).

    Parameters
    ----------
    path : str or path-like
        A file written by ``python -m verify <command> --json`` (any version; files
        written before the envelope of format_version 1 are read too), or the
        ``quadrature_vs_montecarlo`` benchmark's JSON (its ``rows``).
    to : {"pandas", "xarray"}
        ``"pandas"``: a :class:`pandas.DataFrame`, one row per record with the columns
        listed below.  ``"xarray"``: an :class:`xarray.Dataset` with the dimensions of
        :data:`GRIDDED` (the commands whose data are curves or a grid).

    Returns
    -------
    pandas.DataFrame or xarray.Dataset
        Rows by command: ``theorem1`` one per (input, sigma) with ``snr``, ``snr_stderr``
        and ``snr_<form>``; ``sweep`` and ``survey`` one per (setting, input) with the
        peaks (``forms.<form>.<key>`` columns); ``map`` one per (input, K, d, delta) cell;
        ``memorization``, ``mixtures``, ``separated``, ``probe`` one per (run, sigma) with
        every curve of the run as a column (``snr.estimate``, ``probes.bayes.stderr``...);
        ``proposition1``, ``peak-law``, ``derive`` one per summary item.  The envelope
        (command, verdict, partial, arguments, provenance) is in ``.attrs``.

    Raises
    ------
    ParameterError
        When the file is not a molrg result, or ``to="xarray"`` for a command whose data
        are not gridded.
    ImportError
        When pandas (or xarray) is not installed: ``pip install 'molrg[results]'``.

    Examples
    --------
    >>> import molrg, tempfile, os
    >>> from verify import cli
    >>> path = os.path.join(tempfile.mkdtemp(), "t1.json")
    >>> cli.main(["theorem1", "--num-sigma", "6", "--input", "clean", "--quiet",
    ...           "--json", path])  # doctest: +SKIP
    >>> molrg.load_results(path)[["input", "sigma", "snr"]].shape  # doctest: +SKIP
    (6, 3)
    """
    if not isinstance(to, str) or to not in ("pandas", "xarray"):
        raise ParameterError(f"to={to!r} is not valid; valid: 'pandas', 'xarray'")
    import pandas as pd  # optional (the ``results`` extra): imported where used

    data = read_results(path)
    command = data.get("command", "benchmark")
    records = [_flat(r) for r in _records(command, data)]
    frame = pd.DataFrame.from_records(records) if records else pd.DataFrame()
    frame.attrs.update({k: data.get(k) for k in ENVELOPE_KEYS})
    frame.attrs["command"] = command
    if to == "pandas":
        return frame
    if command not in GRIDDED:
        raise ParameterError(f"to='xarray': the data of {command!r} are not gridded; "
                             f"valid for {', '.join(GRIDDED)}")
    dims = list(GRIDDED[command])
    from pandas.api.types import is_bool_dtype, is_numeric_dtype  # optional, as above

    numeric = frame[[c for c in frame.columns if c in dims or is_numeric_dtype(frame[c])
                     or is_bool_dtype(frame[c])]]
    dataset = numeric.drop_duplicates(dims).set_index(dims).to_xarray()
    dataset.attrs.update({k: json.dumps(v) if isinstance(v, (dict, list)) else v
                          for k, v in frame.attrs.items() if v is not None})
    return dataset


def _flat(record: dict[str, Any], prefix: str = "",
          out: dict[str, Any] | None = None) -> dict[str, Any]:
    """Nested dicts as ``a.b`` columns (lists stay cells)."""
    out = {} if out is None else out
    for key, value in record.items():
        if isinstance(value, dict) and value:
            _flat(value, f"{prefix}{key}.", out)
        else:
            out[f"{prefix}{key}"] = value
    return out


def _records(command: str, data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """One flat-able dict per row of :func:`load_results` (nested dicts become a.b)."""
    if command == "theorem1":
        for mode, m in data["modes"].items():
            forms = m.get("forms", {})
            for i, sigma in enumerate(m["sigma"]):
                row = {"input": mode, "sigma": sigma, "snr": m["snr_simulated"][i],
                       "snr_stderr": m["snr_stderr"][i]}
                row.update({f"snr_{f}": v["snr"][i] for f, v in forms.items()})
                yield row
    elif command == "sweep":
        yield from data.get("rows", [])
    elif command in ("map", "survey"):
        for key, cell in data.get("results", {}).items():
            for row in cell if isinstance(cell, list) else [cell]:
                yield {"setting": key, **row}
    elif command in ("memorization", "mixtures", "separated", "probe"):
        for key, run in data.get("runs", {}).items():
            yield from _curve_rows(key, run)
    elif command == "derive":
        for key, expressions in data.get("expressions", {}).items():
            for name, text in expressions.items():
                yield {"case": key, "name": name, "expression": text}
    elif "rows" in data and isinstance(data["rows"], list):
        yield from data["rows"]
    else:  # proposition1, peak-law, and any newer summary-only command: one row
        yield {k: v for k, v in data.items() if k not in ENVELOPE_KEYS}


def _curve_rows(key: str, run: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """One row per sigma of a run: every array as long as the grid becomes a column."""
    sigma = run.get("sigma") or []
    columns: dict[str, list[Any]] = {}
    scalars: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        elif isinstance(value, list) and len(value) == len(sigma) and prefix != "sigma":
            columns[prefix] = value
        elif not isinstance(value, list):
            scalars[prefix] = value

    walk("", run)
    for i, s in enumerate(sigma):
        yield {"run": key, "sigma": s, **scalars, **{c: v[i] for c, v in columns.items()}}
