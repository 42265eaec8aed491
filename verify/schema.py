"""JSON Schemas of the commands' ``--json`` files: ``python -m verify.schema``.

Every command writes one envelope (docs/json.md): the common keys
:data:`verify.report.ENVELOPE_KEYS` (declared here by hand, exact) and the command's payload
keys next to them.  The payload part of each schema is generated from the command's result
type: its ``to_json`` output is recorded on small runs of the command (:data:`EXAMPLES`)
and on the stored results in ``docs/data/`` and merged into one schema -- the types of
every key, the keys every instance has (``required``), and task maps (``runs``,
``results``, ``failures``: keys are settings) as ``additionalProperties``.  The title and
description come from the result class.  Extra keys are allowed (a newer minor version may
add payload keys); a key changing type or disappearing is a new ``format_version``.

``python -m verify.schema`` writes ``verify/schemas/<command>.json`` (used by ``--resume``
to validate stored results, :func:`check_task_results`) and copies them to
``docs/schemas/`` for the site.  ``--check`` only compares (exit 1 when stale).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["EXAMPLES", "check_task_results", "generate", "load_schema", "validate"]

SCHEMA_DIR = Path(__file__).with_name("schemas")
DOCS_SCHEMA_DIR = Path(__file__).resolve().parent.parent / "docs" / "schemas"
DOCS_DATA = Path(__file__).resolve().parent.parent / "docs" / "data"
BASE_URL = "https://molrg.github.io/molrg/schemas/"

EXAMPLES: dict[str, list[list[str]]] = {
    "theorem1": [["--method", "reduced", "--samples", "2000", "--num-sigma", "6",
                  "--replicates", "2"], ["--num-sigma", "8", "--input", "clean"]],
    "map": [["--K", "2,3", "--d", "1,2", "--delta", "0.2,0.5", "--scheduler", "serial"]],
    "sweep": [["--vary", "K", "--values", "2,3", "--method", "reduced", "--samples", "1000",
               "--num-sigma", "5", "--input", "noisy"]],
    "survey": [["--cases", "1", "--samples", "1000", "--num-sigma", "5", "--replicates", "2"]],
    "proposition1": [["--cases", "1"]],
    "derive": [["--input", "clean", "--form", "printed", "--latex"], []],
    "peak-law": [["--cases", "3"]],
    "memorization": [["--K", "2", "--d", "2", "--n", "8", "--N", "10,20", "--samples", "200",
                      "--optimal-samples", "200", "--num-sigma", "5"]],
    "mixtures": [["--angles", "90", "--angle-mode", "all", "--samples", "200", "--num-sigma",
                  "5", "--n", "20", "--d", "2"]],
    "separated": [["--K", "2", "--d", "2", "--n", "12", "--scales", "0,1", "--samples", "200",
                   "--probe-samples", "200", "--num-sigma", "5"]],
    "probe": [["--K", "2", "--d", "2", "--n", "8", "--N", "10", "--probes", "bayes",
               "--samples", "200", "--snr-samples", "200", "--num-sigma", "5"]],
    "speciation": [["--quick", "--scheduler", "serial"]],
    "collapse": [["--quick", "--scheduler", "serial"]],
    "ensemble": [["--quick", "--settings", "separated", "--label-noise", "0,0.8"]],
    "trained": [["--quick", "--parts", "fig3", "--scheduler", "serial"]],
    "generalization": [["--quick", "--scheduler", "serial"]],
    "learning": [["--quick"]],
}
"""Small runs of every command (seconds each) whose JSON the generator records and the
tests validate (``trained`` needs the ``train`` extra: skipped by the tests without torch)."""

NEEDS_TORCH = ("trained", "generalization", "learning")
"""Commands of :data:`EXAMPLES` that need PyTorch (the ``train`` extra)."""

TASK_MAPS = ("runs", "results", "failures")
"""Top-level payload keys whose keys are settings (one entry per task)."""

VERDICTS = ("holds", "deviates", "undetermined", "info")


# ---------------------------------------------------------------------------------------
# Inference: JSON values -> a merged shape -> JSON Schema
# ---------------------------------------------------------------------------------------
def _shape(value: Any, keyed: bool = False) -> dict[str, Any]:
    """The shape of one JSON value: ``{"types", "props", "required", "items", "keyed"}``."""
    if value is None:
        return {"types": {"null"}}
    if isinstance(value, bool):
        return {"types": {"boolean"}}
    if isinstance(value, (int, float)):
        return {"types": {"number"}}
    if isinstance(value, str):
        return {"types": {"string"}}
    if isinstance(value, list):
        items = _merge_all(_shape(v) for v in value)
        return {"types": {"array"}, "items": items}
    if isinstance(value, dict):
        if keyed or any(not _is_name(k) for k in value):
            return {"types": {"object"}, "keyed": _merge_all(_shape(v) for v in value.values())}
        return {"types": {"object"}, "props": {k: _shape(v) for k, v in value.items()},
                "required": set(value)}
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def _is_name(key: str) -> bool:
    return key.replace("_", "a").replace("-", "a").isalnum() and not key[:1].isdigit()


def _merge_all(shapes: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    out: dict[str, Any] | None = None
    for s in shapes:
        out = s if out is None else _merge(out, s)
    return out


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"types": a["types"] | b["types"]}
    for key in ("items", "keyed"):
        parts = [s[key] for s in (a, b) if s.get(key) is not None]
        if parts:
            out[key] = _merge_all(parts)
    if "props" in a or "props" in b:
        if "keyed" in out:  # one instance looked like a task map: keep it keyed
            extra = [v for s in (a, b) for v in s.get("props", {}).values()]
            out["keyed"] = _merge_all([out["keyed"], *extra])
        else:
            pa, pb = a.get("props", {}), b.get("props", {})
            out["props"] = {k: (_merge(pa[k], pb[k]) if k in pa and k in pb else pa.get(k)
                                or pb[k]) for k in {**pa, **pb}}
            out["required"] = (a.get("required", set()) if "props" in a else set(pb)) & (
                b.get("required", set()) if "props" in b else set(pa))
    return out


def _to_schema(shape: dict[str, Any] | None, required: bool = False) -> dict[str, Any]:
    """JSON Schema of a merged shape.  ``required`` lists the keys every instance had, only
    where asked (a task's own keys): deeper keys often depend on the options (``--input``
    picks the modes, ``--probes`` the probes), so there only their types are checked."""
    if shape is None:
        return {}
    types = set(shape["types"])
    if "number" in types:
        types.add("null")  # non-finite numbers are written as null
    out: dict[str, Any] = {"type": sorted(types) if len(types) > 1 else next(iter(types))}
    if "items" in shape:
        out["items"] = _to_schema(shape["items"], required)
    if "props" in shape:
        out["properties"] = {k: _to_schema(v) for k, v in sorted(shape["props"].items())}
        if required:
            out["required"] = sorted(shape["required"])
    if "keyed" in shape:
        out["additionalProperties"] = _to_schema(shape["keyed"], required)
    return out


# ---------------------------------------------------------------------------------------
# The envelope and one schema per command
# ---------------------------------------------------------------------------------------
def envelope_properties() -> dict[str, Any]:
    """The common keys, exactly (docs/json.md)."""
    from .report import FORMAT, FORMAT_VERSION

    return {
        "format": {"const": FORMAT, "description": "always 'molrg-result'"},
        "format_version": {"const": FORMAT_VERSION,
                           "description": "the envelope's version (docs/json.md)"},
        "command": {"type": "string", "description": "the verify command that wrote it"},
        "verdict": {"enum": [*VERDICTS, None],
                    "description": "overall verdict; null in a partial file"},
        "partial": {"type": "boolean",
                    "description": "true while a run is going or after Ctrl-C"},
        "arguments": {"type": "object", "description": "the options that determine the "
                      "results (--resume requires them to match)"},
        "provenance": {
            "type": "object",
            "description": "where the result came from",
            "required": ["molrg_version", "git", "timestamp_utc", "python", "platform",
                         "libraries", "argv", "command_line", "seeds"],
            "properties": {
                "molrg_version": {"type": "string"},
                "git": {"type": ["object", "null"],
                        "properties": {"commit": {"type": "string"},
                                       "dirty": {"type": "boolean"}}},
                "timestamp_utc": {"type": "string", "format": "date-time"},
                "python": {"type": "string"},
                "python_implementation": {"type": "string"},
                "platform": {"type": "string"},
                "machine": {"type": "string"},
                "libraries": {"type": "object",
                              "additionalProperties": {"type": ["string", "null"]}},
                "argv": {"type": "array", "items": {"type": "string"}},
                "command_line": {"type": "string"},
                "seeds": {"type": "object"},
            },
        },
    }


def _result_type(command: str) -> type | None:
    import typing

    from .commands import find

    handler = find(command)
    try:
        return typing.get_type_hints(handler.run).get("return")
    except Exception:  # pragma: no cover - an unresolvable annotation
        return None


def _command_json(command: str, argv: list[str]) -> dict[str, Any]:
    """The payload of ``python -m verify command argv`` (run in-process, quietly)."""
    import argparse as _argparse
    import contextlib
    import io

    from . import parallel
    from .cli import build_parser

    args = build_parser().parse_args([command, *argv, "--quiet"])
    del _argparse
    with contextlib.redirect_stderr(io.StringIO()):
        result = args.handler.execute(args)
    from .report import envelope, jsonable

    return jsonable(envelope(command, result.verdict, result.to_json(),
                             arguments=parallel.run_arguments(args)))


def _stored(command: str) -> list[dict[str, Any]]:
    """The envelopes of docs/data/ written by ``command`` (old files: payload only)."""
    out = []
    for path in sorted(DOCS_DATA.glob("*.json")):
        data = json.loads(path.read_text())
        if isinstance(data, dict) and data.get("command") == command:
            out.append(data)
    return out


def build_schema(command: str, documents: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON Schema of ``command`` from its recorded ``documents``."""
    from .report import ENVELOPE_KEYS

    env = envelope_properties()
    payload: dict[str, Any] = {"types": {"object"}, "props": {}, "required": set()}
    shapes = []
    for document in documents:
        body = {k: v for k, v in document.items() if k not in ENVELOPE_KEYS}
        shapes.append({"types": {"object"},
                       "props": {k: _shape(v, keyed=k in TASK_MAPS) for k, v in body.items()},
                       "required": set(body)})
    payload = _merge_all(shapes) or payload
    props = {k: _to_schema(v, required=k in TASK_MAPS[:2])
             for k, v in sorted(payload["props"].items())}
    cls = _result_type(command)
    doc = " ".join((cls.__doc__ or "").split()) if cls is not None else ""
    if cls is not None and doc.startswith(f"{cls.__name__}("):  # a dataclass's generated doc
        module = sys.modules[cls.__module__]
        doc = " ".join((module.__doc__ or "").split("\n\n")[0].split())
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{BASE_URL}{command}.json",
        "title": f"python -m verify {command} --json"
                 + (f" ({cls.__module__}.{cls.__qualname__})" if cls is not None else ""),
        "description": doc or f"The JSON file of verify {command}.",
        "type": "object",
        "required": [*ENVELOPE_KEYS, *sorted(payload["required"])],
        "properties": {**env, "command": {"const": command}, **props},
    }


def generate(commands: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
    """The schema of every command (runs :data:`EXAMPLES`; reads docs/data/)."""
    out = {}
    for command in commands or EXAMPLES:
        documents = [_command_json(command, argv) for argv in EXAMPLES[command]]
        documents += _stored(command)
        out[command] = build_schema(command, documents)
    return out


def dumps(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=1, sort_keys=False) + "\n"


# ---------------------------------------------------------------------------------------
# Validation (the subset of JSON Schema the generator writes; no dependency)
# ---------------------------------------------------------------------------------------
_TYPES = {"null": lambda v: v is None, "boolean": lambda v: isinstance(v, bool),
          "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
          and math.isfinite(v),
          "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
          "string": lambda v: isinstance(v, str), "array": lambda v: isinstance(v, list),
          "object": lambda v: isinstance(v, dict)}


def validate(value: Any, schema: dict[str, Any], where: str = "$",
             limit: int = 10) -> list[str]:
    """Problems of ``value`` against ``schema`` (empty: valid): ``type``, ``const``,
    ``enum``, ``properties``, ``required``, ``additionalProperties``, ``items``."""
    problems: list[str] = []
    if "const" in schema and value != schema["const"]:
        return [f"{where} is {value!r}, expected {schema['const']!r}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{where} is {value!r}, expected one of {schema['enum']!r}"]
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_TYPES[t](value) for t in types):
            return [f"{where} is {type(value).__name__} {_short(value)}, expected "
                    f"{' or '.join(types)}"]
    if isinstance(value, dict):
        for key in schema.get("required", ()):
            if key not in value:
                problems.append(f"{where} lacks the key {key!r}")
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            sub = props.get(key, extra if isinstance(extra, dict) else None)
            if sub is not None:
                problems += validate(item, sub, f"{where}[{key!r}]", limit)
            if len(problems) >= limit:
                break
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            problems += validate(item, schema["items"], f"{where}[{i}]", limit)
            if len(problems) >= limit:
                break
    return problems[:limit]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def load_schema(command: str) -> dict[str, Any] | None:
    """The published schema of ``command`` (None when the generator has not written it)."""
    path = SCHEMA_DIR / f"{command}.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())


def check_task_results(command: Any, key: str, done: Any) -> list[str]:
    """Problems of the stored task results ``done`` (the ``key`` map of a ``command``'s
    JSON) against the command's schema; empty when they can be reused by ``--resume``."""
    if not isinstance(done, dict):
        return [f"{key} is {type(done).__name__}, expected an object"]
    if not all(isinstance(v, (dict, list)) for v in done.values()):
        bad = next(k for k, v in done.items() if not isinstance(v, (dict, list)))
        return [f"{key}[{bad!r}] is {type(done[bad]).__name__}, expected an object"]
    schema = load_schema(command) if isinstance(command, str) else None
    sub = (schema or {}).get("properties", {}).get(key)
    if not sub:
        return []
    return validate(done, sub, key)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verify.schema", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("commands", nargs="*", help="commands (default: all)")
    parser.add_argument("--check", action="store_true",
                        help="compare with the files on disk; exit 1 when any is stale")
    args = parser.parse_args(argv)
    schemas = generate(args.commands or None)
    stale = []
    for command, schema in schemas.items():
        text = dumps(schema)
        for folder in (SCHEMA_DIR, DOCS_SCHEMA_DIR):
            path = folder / f"{command}.json"
            if args.check:
                if not path.exists() or path.read_text() != text:
                    stale.append(str(path))
            else:
                folder.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
                print(f"wrote {path}", file=sys.stderr)
    for item in stale:
        print(f"stale: {item} (run python -m verify.schema)", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
